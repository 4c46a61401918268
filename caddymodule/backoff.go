package caddymodule

import (
	"sync"
	"time"
)

// Login backoff: after a few free failures, each further failure locks the
// key for twice as long as the last, up to a cap. Keys are accounts (so a
// botnet cannot spread guesses over IPs) and client IPs (so one client
// cannot spread guesses over accounts). A locked key is refused before any
// password hashing, so a guesser costs the server nothing. At the cap an
// account gets about 100 guesses a day, whoever guesses.
const (
	accountFreeFailures = 5
	ipFreeFailures      = 20 // several users may share an IP (NAT)
	backoffBase         = time.Second
	backoffCap          = 15 * time.Minute
	// backoffForget drops a key this long after its last failure.
	backoffForget = 24 * time.Hour
	// backoffMaxKeys bounds memory (about 100 bytes a key); when full,
	// forgotten keys are swept and then arbitrary unlocked ones evicted.
	backoffMaxKeys = 100_000
)

// loginBackoff counts failed logins per key, for the whole process (keys
// carry the store path, so two stores in one process do not mix).
var loginBackoff = &backoff{m: map[string]*failures{}}

type backoff struct {
	mu sync.Mutex
	m  map[string]*failures
}

type failures struct {
	n     int
	last  time.Time
	until time.Time
}

// wait reports how long the keys stay locked (0: not locked).
func (b *backoff) wait(now time.Time, keys ...string) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	var longest time.Duration
	for _, k := range keys {
		if f, ok := b.m[k]; ok && f.until.After(now) {
			longest = max(longest, f.until.Sub(now))
		}
	}
	return longest
}

// fail records a failure of key, which may fail free times before it is
// locked.
func (b *backoff) fail(now time.Time, key string, free int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f, ok := b.m[key]
	if !ok || now.Sub(f.last) > backoffForget {
		if !ok && len(b.m) >= backoffMaxKeys {
			b.evict(now)
		}
		f = &failures{}
		b.m[key] = f
	}
	f.n++
	f.last = now
	if over := f.n - free; over > 0 {
		d := backoffCap
		if over <= 20 && backoffBase<<(over-1) < backoffCap {
			d = backoffBase << (over - 1)
		}
		f.until = now.Add(d)
	}
}

// succeed forgets key's failures (a successful login clears its account,
// not its IP: an attacker with one valid account must not be able to
// reset the IP's count by logging into it).
func (b *backoff) succeed(key string) {
	b.mu.Lock()
	delete(b.m, key)
	b.mu.Unlock()
}

// evict makes room: forgotten keys first, then unlocked ones. Called with
// mu held.
func (b *backoff) evict(now time.Time) {
	for k, f := range b.m {
		if now.Sub(f.last) > backoffForget {
			delete(b.m, k)
		}
	}
	for k, f := range b.m {
		if len(b.m) < backoffMaxKeys*9/10 {
			return
		}
		if !f.until.After(now) {
			delete(b.m, k)
		}
	}
}
