// Package clock is the time Gatehouse's credentials and counters live by
// (the store's default clock, session cookies, login backoff): the wall
// clock, unless a test has stopped it. Tests that run Caddy in-process
// (caddymodule/integration) cannot reach a handler's fields or the store's
// options, so the clock they can set is this one, and a test that waits
// for a session, grant or lock to age moves it on instead of sleeping.
// Production never stops it.
package clock

import (
	"sync/atomic"
	"time"
)

var stopped atomic.Pointer[time.Time]

// Now is the wall clock's time, or the stopped clock's.
func Now() time.Time {
	if t := stopped.Load(); t != nil {
		return *t
	}
	return time.Now()
}

// Stop stops the clock at t until restore is called, which starts the wall
// clock again. For tests: t.Cleanup(clock.Stop(now)).
func Stop(t time.Time) (restore func()) {
	stopped.Store(&t)
	return func() { stopped.Store(nil) }
}

// Advance moves a stopped clock on by d; on the wall clock it does
// nothing.
func Advance(d time.Duration) {
	for {
		t := stopped.Load()
		if t == nil {
			return
		}
		next := t.Add(d)
		if stopped.CompareAndSwap(t, &next) {
			return
		}
	}
}
