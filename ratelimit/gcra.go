package ratelimit

import (
	"math"
	"sync/atomic"
	"time"
)

// Decision is the answer to one request: whether it is allowed and what to
// tell the client about its budget.
type Decision struct {
	// Allowed reports whether the request fits the budget. A refused
	// request consumes nothing.
	Allowed bool
	// Remaining is how many more requests would be allowed right now
	// (RateLimit r).
	Remaining int
	// Reset is the time until the budget is fully restored if the key
	// sends nothing more (RateLimit t when allowed).
	Reset time.Duration
	// RetryAfter, when !Allowed, is the time until the next request would
	// be allowed; zero when Allowed.
	RetryAfter time.Duration
}

// entry is the whole per-key state: the theoretical arrival time (TAT) in
// nanoseconds, the instant at which the key's budget is full again. A TAT
// in the past means a full budget, exactly like a key never seen.
type entry struct {
	tat atomic.Int64
}

// dead marks an entry that Sweep or eviction removed from its shard. An
// Allow that still holds the pointer must not decide on it, or the decision
// would be lost with the entry; it looks the key up again instead. No real
// TAT is this small.
const dead = math.MinInt64

// gcra holds a policy's parameters in nanoseconds.
type gcra struct {
	interval  int64 // T: Window/Count, the time one request's budget takes to come back
	tolerance int64 // B*T: how far ahead of now the TAT may run
}

func newGCRA(p Policy) gcra {
	t := int64(p.interval())
	return gcra{interval: t, tolerance: int64(p.capacity()) * t}
}

// decide admits or refuses one request at now against e. It reports false,
// without deciding, if e has been removed from its shard.
//
// A request is allowed iff max(TAT, now) + T - now <= B*T; only an allowed
// request moves the TAT, by compare-and-swap, so concurrent callers each
// either win a distinct slot or retry against the TAT that beat them.
func (g gcra) decide(e *entry, now int64) (Decision, bool) {
	for {
		tat := e.tat.Load()
		if tat == dead {
			return Decision{}, false
		}
		newTAT := max(tat, now) + g.interval
		if newTAT-now > g.tolerance {
			// Refused implies tat > now: a rested key always fits (B >= 1).
			return Decision{
				Reset:      time.Duration(tat - now),
				RetryAfter: time.Duration(newTAT - now - g.tolerance),
			}, true
		}
		if e.tat.CompareAndSwap(tat, newTAT) {
			return Decision{
				Allowed:   true,
				Remaining: int((g.tolerance - (newTAT - now)) / g.interval),
				Reset:     time.Duration(newTAT - now),
			}, true
		}
	}
}
