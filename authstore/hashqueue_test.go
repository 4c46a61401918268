package authstore

import (
	"context"
	"errors"
	"testing"
	"time"
)

// stuck is how long a wait lasts before the test calls it stuck: long, so
// that only broken code, never a slow machine, reaches it.
const stuck = 10 * time.Second

// waitFor polls cond until it holds, failing if it is stuck.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(stuck); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestHashQueue checks the bounded queue for hashing slots: waiters beyond
// the bound are refused at once with ErrBusy, a waiter whose request ends
// leaves the queue, and released slots go to the waiters.
func TestHashQueue(t *testing.T) {
	ctx := context.Background()
	q := newHashQueue(1, 2) // one slot, two waiters
	if err := q.acquire(ctx); err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 2)
	for range 2 {
		go func() { got <- q.acquire(ctx) }()
	}
	waitFor(t, "two waiters", func() bool { return q.waiting.Load() == 2 })

	// A third waiter is refused, not queued: queued, it would wait for a
	// slot nobody releases.
	third := make(chan error, 1)
	go func() { third <- q.acquire(ctx) }()
	select {
	case err := <-third:
		if !errors.Is(err, ErrBusy) {
			t.Fatalf("a third waiter: %v, want ErrBusy", err)
		}
	case <-time.After(stuck):
		t.Fatal("a third waiter was queued instead of refused")
	}

	// A waiter whose request is cancelled stops waiting at once.
	cctx, cancel := context.WithCancel(ctx)
	q2 := newHashQueue(1, 4)
	q2.acquire(ctx)
	cancelled := make(chan error, 1)
	go func() { cancelled <- q2.acquire(cctx) }()
	waitFor(t, "the cancellable waiter", func() bool { return q2.waiting.Load() == 1 })
	cancel()
	select {
	case err := <-cancelled:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled waiter: %v", err)
		}
	case <-time.After(stuck):
		t.Fatal("a cancelled waiter kept waiting")
	}
	if n := q2.waiting.Load(); n != 0 {
		t.Errorf("%d waiters left after the cancellation", n)
	}
	if err := q2.acquire(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("an already cancelled request: %v", err)
	}

	// Released slots go to the waiters, one each.
	q.release()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	q.release()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	q.release()
	if len(q.slots) != 0 || q.waiting.Load() != 0 {
		t.Errorf("slots %d, waiting %d after everyone left", len(q.slots), q.waiting.Load())
	}
}

// TestCheckLoginWhenBusy: with every slot taken and the queue full, a
// login is ErrBusy at once, is not a failure in the audit trail, and a
// cancelled request stops waiting.
func TestCheckLoginWhenBusy(t *testing.T) {
	s := openSessStore(t, nil)
	sessUser(t, s, "alice")
	h, _ := HashPassword("alice's password")
	s.SetPassword("alice", h, AdminActor)
	WarmPasswordCheck()

	saved := hashes
	t.Cleanup(func() { hashes = saved })
	hashes = newHashQueue(1, 0)
	hashes.acquire(context.Background())
	if _, err := s.CheckLogin(context.Background(), "alice", "wrong password", "", ""); !errors.Is(err, ErrBusy) {
		t.Fatalf("full queue: %v", err)
	}
	if _, err := HashPasswordContext(context.Background(), "a new password"); !errors.Is(err, ErrBusy) {
		t.Fatalf("hashing with a full queue: %v", err)
	}

	hashes = newHashQueue(1, 1)
	hashes.acquire(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := s.CheckLogin(ctx, "alice", "alice's password", "", ""); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("request gone while queued: %v", err)
	}
	events, _ := s.Audit("", 0)
	for _, e := range events {
		if e.Action == ActionLoginFailed {
			t.Errorf("a check that never ran was audited as a failure: %+v", e)
		}
	}
}
