package ratelimit

import (
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a clock tests move by hand. Its readings carry no monotonic
// component, so the limiter measures them on the wall clock.
type fakeClock struct {
	offset atomic.Int64
}

var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func (c *fakeClock) Now() time.Time          { return epoch.Add(time.Duration(c.offset.Load())) }
func (c *fakeClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

func newTestLimiter(t testing.TB, p Policy, o Options) (*Limiter, *fakeClock) {
	t.Helper()
	c := new(fakeClock)
	if o.Now == nil {
		o.Now = c.Now
	}
	l, err := New(p, o)
	if err != nil {
		t.Fatalf("New(%+v): %v", p, err)
	}
	return l, c
}

// step advances the clock, makes one request and states the whole Decision.
type step struct {
	advance time.Duration
	want    Decision
}

func allowed(remaining int, reset time.Duration) Decision {
	return Decision{Allowed: true, Remaining: remaining, Reset: reset}
}

func refused(reset, retryAfter time.Duration) Decision {
	return Decision{Reset: reset, RetryAfter: retryAfter}
}

func runSteps(t *testing.T, l *Limiter, c *fakeClock, key string, steps []step) {
	t.Helper()
	for i, s := range steps {
		c.Advance(s.advance)
		if got := l.Allow(key); got != s.want {
			t.Fatalf("step %d (t=%v): Allow = %+v; want %+v", i, time.Duration(c.offset.Load()), got, s.want)
		}
	}
}

func TestBurstThenSteadyRate(t *testing.T) {
	// 600/1m: one request back every 100ms; up to 100 at once.
	l, c := newTestLimiter(t, Policy{Name: "free", Count: 600, Window: time.Minute, Burst: 100}, Options{})
	const T = 100 * time.Millisecond

	var steps []step
	for i := range 100 {
		steps = append(steps, step{0, allowed(99-i, time.Duration(i+1)*T)})
	}
	steps = append(steps,
		step{0, refused(10*time.Second, T)},                                              // 101st
		step{0, refused(10*time.Second, T)},                                              // refusal consumed nothing
		step{50 * time.Millisecond, refused(9950*time.Millisecond, 50*time.Millisecond)}, // half way
		step{50 * time.Millisecond, allowed(0, 10*time.Second)},                          // one unit back
		step{0, refused(10*time.Second, T)},
		step{10 * time.Second, allowed(99, T)},        // fully rested
		step{2500 * time.Millisecond, allowed(99, T)}, // a rested key is capped at the burst
	)
	runSteps(t, l, c, "alice", steps)

	// Drain, then rest 2.5s: 25 units come back, no more.
	for range 99 {
		l.Allow("alice")
	}
	if d := l.Allow("alice"); d.Allowed {
		t.Fatalf("after draining: Allow = %+v; want refused", d)
	}
	runSteps(t, l, c, "alice", []step{
		{2500 * time.Millisecond, allowed(24, 10*time.Second-2500*time.Millisecond+T)},
	})
}

func TestCountOnlyPolicy(t *testing.T) {
	// No burst: the whole hourly count may be spent at once, then one
	// request every 6 minutes.
	l, c := newTestLimiter(t, Policy{Name: "anonymous", Count: 10, Window: time.Hour}, Options{})
	const T = 6 * time.Minute

	var steps []step
	for i := range 10 {
		steps = append(steps, step{0, allowed(9-i, time.Duration(i+1)*T)})
	}
	steps = append(steps,
		step{0, refused(time.Hour, T)},
		step{T - time.Nanosecond, refused(time.Hour-T+time.Nanosecond, time.Nanosecond)},
		step{time.Nanosecond, allowed(0, time.Hour)},
		step{time.Hour, allowed(9, T)},
	)
	runSteps(t, l, c, "203.0.113.7", steps)
}

func TestRefusedRequestsDoNotConsume(t *testing.T) {
	l, c := newTestLimiter(t, Policy{Name: "free", Count: 5, Window: 5 * time.Second}, Options{})
	for range 5 {
		l.Allow("k")
	}
	// A client hammering while refused must still get its next request
	// exactly one interval later.
	for range 1000 {
		c.Advance(time.Millisecond / 2)
		if d := l.Allow("k"); d.Allowed {
			t.Fatalf("Allow while drained = %+v; want refused", d)
		}
	}
	c.Advance(500 * time.Millisecond)
	if d := l.Allow("k"); !d.Allowed {
		t.Fatalf("Allow one interval after draining = %+v; want allowed", d)
	}
}

func TestSustainedRate(t *testing.T) {
	// A client asking every 10ms for a minute gets the burst plus one
	// request per interval: the n-th request (from 0) is allowed once
	// (n+1)*T <= now + B*T, so by 59.99s that is floor(69.99s/100ms) = 699.
	l, c := newTestLimiter(t, Policy{Name: "free", Count: 600, Window: time.Minute, Burst: 100}, Options{})
	n := 0
	for range 6000 {
		if l.Allow("k").Allowed {
			n++
		}
		c.Advance(10 * time.Millisecond)
	}
	if n != 699 {
		t.Fatalf("allowed %d requests in a minute at 100/s; want 699", n)
	}
}

func TestKeysAreIndependent(t *testing.T) {
	l, _ := newTestLimiter(t, Policy{Name: "free", Count: 3, Window: time.Minute}, Options{})
	for range 3 {
		l.Allow("alice")
	}
	if d := l.Allow("alice"); d.Allowed {
		t.Fatalf("alice's 4th request = %+v; want refused", d)
	}
	if d := l.Allow("bob"); d != allowed(2, 20*time.Second) {
		t.Fatalf("bob's first request = %+v; want a fresh budget", d)
	}
	// Keys are compared as whole strings, not by prefix or hash.
	if d := l.Allow("alice "); !d.Allowed {
		t.Fatalf(`"alice " = %+v; want a key of its own`, d)
	}
	if got := l.Len(); got != 3 {
		t.Fatalf("Len = %d; want 3", got)
	}
}

func TestClockGoingBackwards(t *testing.T) {
	// A test clock (or a wall clock without a monotonic reading) may step
	// back; decisions must stay within the policy and never go negative.
	l, c := newTestLimiter(t, Policy{Name: "free", Count: 2, Window: 2 * time.Second}, Options{})
	l.Allow("k")
	l.Allow("k")
	c.Advance(-time.Hour)
	d := l.Allow("k")
	if d.Allowed || d.Remaining != 0 || d.RetryAfter <= 0 || d.RetryAfterSeconds() < 1 {
		t.Fatalf("after the clock stepped back: Allow = %+v; want refused with a positive RetryAfter", d)
	}
}

func TestPolicyReturnsPolicy(t *testing.T) {
	p := Policy{Name: "pro", Count: 6000, Window: time.Minute, Burst: 500}
	l, _ := newTestLimiter(t, p, Options{})
	if got := l.Policy(); got != p {
		t.Fatalf("Policy() = %+v; want %+v", got, p)
	}
}
