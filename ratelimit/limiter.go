package ratelimit

import (
	"fmt"
	"time"
)

// DefaultMaxKeys is the bound on tracked keys when Options.MaxKeys is 0:
// 80 to 110 MB of state when full, at the 80 (IPv4 key) to 112 (UUID key)
// bytes per key measured by BenchmarkMemoryPerKey.
const DefaultMaxKeys = 1 << 20

// Options tunes a Limiter. The zero value is ready to use.
type Options struct {
	// MaxKeys bounds the number of tracked keys, and so the memory; 0 means
	// DefaultMaxKeys. See the package documentation for what happens when
	// more keys are active than this.
	MaxKeys int
	// Now returns the current time; nil means time.Now. Tests set it to
	// drive the limiter with a fake clock.
	Now func() time.Time
}

// Limiter enforces one Policy for any number of keys. Its methods are safe
// for concurrent use.
type Limiter struct {
	policy Policy
	gcra   gcra
	keys   *table

	clock func() time.Time // nil: the real clock
	// base and baseNanos anchor now(): elapsed time is measured with the
	// monotonic reading time.Now carries, immune to wall-clock steps.
	base      time.Time
	baseNanos int64
}

// New returns a Limiter for p, or an error if p or o is invalid.
func New(p Policy, o Options) (*Limiter, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if o.MaxKeys < 0 {
		return nil, fmt.Errorf("ratelimit: MaxKeys must not be negative, got %d", o.MaxKeys)
	}
	if o.MaxKeys == 0 {
		o.MaxKeys = DefaultMaxKeys
	}
	base := time.Now()
	if o.Now != nil {
		base = o.Now()
	}
	return &Limiter{
		policy:    p,
		gcra:      newGCRA(p),
		keys:      newTable(o.MaxKeys),
		clock:     o.Now,
		base:      base,
		baseNanos: base.UnixNano(),
	}, nil
}

// Policy returns the policy l enforces.
func (l *Limiter) Policy() Policy { return l.policy }

// Allow decides one request for key and, if it is allowed, charges it to
// the key's budget.
func (l *Limiter) Allow(key string) Decision {
	now := l.now()
	s := l.keys.shard(key)
	for {
		e := s.get(key)
		if e == nil {
			e = s.insert(key, now)
		}
		if d, ok := l.gcra.decide(e, now); ok {
			return d
		}
		// Sweep or eviction removed e between lookup and decision. The map
		// no longer holds it, so the next lookup finds or adds its successor.
	}
}

// Len returns the number of tracked keys.
func (l *Limiter) Len() int {
	n := 0
	for i := range l.keys.shards {
		n += l.keys.shards[i].len()
	}
	return n
}

// Sweep drops every idle key, one whose budget is full and whose state is
// therefore the same as a new key's, and returns how many it dropped. It
// write-locks one shard at a time, for as long as scanning that shard's keys
// takes (at most MaxKeys/256 of them). Call it periodically so that eviction
// of active keys stays rare.
func (l *Limiter) Sweep() int {
	now := l.now()
	n := 0
	for i := range l.keys.shards {
		n += l.keys.shards[i].sweep(now)
	}
	return n
}

// now returns the current time in Unix nanoseconds, advanced from New's by
// the monotonic clock.
func (l *Limiter) now() int64 {
	if l.clock == nil {
		// time.Since reads only the monotonic clock: half the cost of
		// time.Now, which reads the wall clock too.
		return l.baseNanos + int64(time.Since(l.base))
	}
	return l.baseNanos + int64(l.clock().Sub(l.base))
}
