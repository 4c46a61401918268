package service

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/internal/etcdtest"
)

// TestBackoffLocksAcrossEdges: with fleet-mode stores, a key locked on
// one edge is refused on another, and a lock lifted by a refund (the
// attempt was no failure after all) is lifted there too.
func TestBackoffLocksAcrossEdges(t *testing.T) {
	c := etcdtest.Start(t, 3)
	open := func(name string) *authstore.Store {
		s, err := authstore.Open(filepath.Join(t.TempDir(), name+".db"), authstore.Options{Fleet: &authstore.FleetOptions{
			Endpoints: c.Endpoints(), EdgeID: name, ProgressInterval: 50 * time.Millisecond,
		}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open("a"), open("b")
	ba, bb := NewBackoff(), NewBackoff()
	ba.Shared, bb.Shared = a, b
	// seen waits until b's mirror holds a lock on key lasting past after
	// (want), or none that does (!want).
	seen := func(key string, after time.Time, want bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for b.SharedLock(key).After(after) != want {
			if time.Now().After(deadline) {
				t.Fatalf("edge b: lock on %s present=%v, want %v", key, !want, want)
			}
			time.Sleep(5 * time.Millisecond) // polling the mirror, not synchronising
		}
	}

	t0 := time.Now()
	keys := []Allowance{{Key: "account:alice", Free: 1}}
	// a's first failure uses up the free one and locks for 1s; a second,
	// after it, locks for 2s.
	if at, _ := ba.Begin(t0, keys...); at == nil {
		t.Fatal("first attempt refused")
	}
	if at, _ := ba.Begin(t0.Add(2*time.Second), keys...); at == nil {
		t.Fatal("attempt after the lock refused")
	}
	seen("account:alice", t0.Add(2*time.Second), true)
	if at, wait := bb.Begin(t0.Add(2*time.Second), keys...); at != nil || wait <= 0 {
		t.Fatalf("edge b let a locked key through (wait %v)", wait)
	}

	// A lock imposed by an attempt that is refunded is lifted everywhere.
	other := []Allowance{{Key: "ip:192.0.2.9", Free: 0}}
	at, _ := ba.Begin(t0, other...)
	if at == nil {
		t.Fatal("refused")
	}
	seen("ip:192.0.2.9", t0, true)
	at.RefundAll()
	seen("ip:192.0.2.9", t0, false)
	if at, wait := bb.Begin(t0, other...); at == nil {
		t.Fatalf("refunded lock still holds on b (wait %v)", wait)
	}
}
