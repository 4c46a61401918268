package authstore

import (
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// opCounter counts transactions by operation (Options.Observe).
type opCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *opCounter) observe(op string, _ time.Duration) {
	c.mu.Lock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[op]++
	c.mu.Unlock()
}

func (c *opCounter) count(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[op]
}

// addEvents appends n audit events at the clock's time in one
// transaction.
func addEvents(t *testing.T, s *Store, n int) {
	t.Helper()
	err := s.update("test_events", func(tx *Tx) error {
		for range n {
			if err := s.unsafeAudit(tx, Event{Action: ActionLoginFailed, Detail: "wrong password"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestAuditRetention: events older than the retention go, oldest first,
// in batches (one short write each); younger ones stay; a trail with
// nothing to prune costs a read and no write.
func TestAuditRetention(t *testing.T) {
	clock := &testClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	var ops opCounter
	s, _ := openTest(t, Options{Now: clock.Now, Observe: ops.observe, TouchInterval: time.Hour})
	if s.upkeep.auditRetention != DefaultAuditRetention || DefaultAuditRetention != 180*24*time.Hour {
		t.Fatalf("default retention %v", s.upkeep.auditRetention)
	}
	addEvents(t, s, 2500) // a backlog
	clock.Advance(48 * time.Hour)
	addEvents(t, s, 2) // young enough to keep at the prune below
	clock.Advance(DefaultAuditRetention - 24*time.Hour)
	addEvents(t, s, 3)

	// At most two batches per call: the backlog takes two calls.
	if done, err := s.pruneAudit(1000, 2); err != nil || done {
		t.Fatalf("first call: done=%v (%v), want more left", done, err)
	}
	if done, err := s.pruneAudit(1000, 2); err != nil || !done {
		t.Fatalf("second call: done=%v (%v)", done, err)
	}
	if w := ops.count("prune_audit"); w != 3 {
		t.Errorf("%d write transactions for 2500 events in batches of 1000, want 3", w)
	}
	left, _ := s.Audit("", 0)
	if len(left) != 5 {
		t.Fatalf("%d events left, want 5", len(left))
	}
	for _, e := range left {
		if now := clock.Now(); now.Sub(e.Time) > DefaultAuditRetention {
			t.Errorf("kept an event of %v", e.Time)
		}
	}
	reads := ops.count("find_old_audit")
	if done, err := s.pruneAudit(1000, 2); !done || err != nil {
		t.Fatalf("prune with nothing old: %v %v", done, err)
	}
	if ops.count("prune_audit") != 3 || ops.count("find_old_audit") != reads+1 {
		t.Errorf("nothing to prune still wrote: %v", ops.n)
	}

	// housekeep prunes at most hourly.
	start := time.Now()
	s.housekeep(start)
	s.housekeep(start.Add(30 * time.Minute))
	if got := ops.count("find_old_audit"); got != reads+2 {
		t.Errorf("audit looked at %d times in half an hour, want once", got-reads-1)
	}
	s.housekeep(start.Add(auditPruneEvery))
	if got := ops.count("find_old_audit"); got != reads+3 {
		t.Errorf("audit not looked at after an hour")
	}
}

// TestAuditRetentionForever: a negative retention keeps every event.
func TestAuditRetentionForever(t *testing.T) {
	clock := &testClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s, _ := openTest(t, Options{Now: clock.Now, AuditRetention: -1})
	addEvents(t, s, 10)
	clock.Advance(10 * 365 * 24 * time.Hour)
	if done, err := s.pruneAudit(1000, 1); !done || err != nil {
		t.Fatalf("prune with retention off: %v %v", done, err)
	}
	if left, _ := s.Audit("", 0); len(left) != 10 {
		t.Fatalf("%d events left with retention off", len(left))
	}
}

// TestDevicePurgeWritesOnlyWhenStale: the minute purge looks in a read
// transaction and writes only when a grant (or a dangling user-code
// entry) is stale.
func TestDevicePurgeWritesOnlyWhenStale(t *testing.T) {
	clock := &testClock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	var ops opCounter
	s, _ := openTest(t, Options{Now: clock.Now, Observe: ops.observe, TouchInterval: time.Hour})
	_, old := newGrant(t, s)
	clock.Advance(30 * time.Minute)
	_, live := newGrant(t, s)

	for range 3 {
		if err := s.purgeDeviceGrants(); err != nil {
			t.Fatal(err)
		}
	}
	if w := ops.count("purge_device_grants"); w != 0 || ops.count("find_stale_device_grants") != 3 {
		t.Fatalf("nothing stale, yet %d writes", w)
	}

	clock.Advance(time.Hour) // the first grant expired 80 minutes ago
	if err := s.purgeDeviceGrants(); err != nil {
		t.Fatal(err)
	}
	if w := ops.count("purge_device_grants"); w != 1 {
		t.Fatalf("%d writes, want 1", w)
	}
	if _, err := s.DeviceGrantByUserCode(old); err == nil {
		t.Error("stale grant kept")
	}
	if _, err := s.DeviceGrantByUserCode(live); err != nil {
		t.Errorf("live grant purged: %v", err)
	}

	// A user-code entry whose grant is gone is stale too.
	dangling := userCodeKey("BBBBBBBB")
	s.localUpdate(func(tx *Tx) error {
		return tx.Bucket(bucketDeviceUsers).Put(dangling[:], make([]byte, 32))
	})
	s.purgeDeviceGrants()
	s.localView(func(tx *Tx) error {
		if tx.Bucket(bucketDeviceUsers).Get(dangling[:]) != nil {
			t.Error("dangling user-code entry kept")
		}
		if n := tx.Bucket(bucketDeviceUsers).Stats().KeyN; n != 1 {
			t.Errorf("%d user-code entries, want the live grant's only", n)
		}
		return nil
	})
}

// sealed reports whether the refresh record of tok holds a successor.
func sealed(t *testing.T, s *Store, tok string) bool {
	t.Helper()
	var rec RefreshToken
	h := HashToken(tok)
	if err := s.localView(func(tx *Tx) error { return getJSON(tx.Bucket(bucketRefresh), h[:], &rec) }); err != nil {
		t.Fatal(err)
	}
	return rec.Successor != nil
}

// TestSealedSuccessorWipedAfterGrace: the sealed successor serves
// concurrent refreshes inside the grace window and is wiped by the
// housekeeping once it is over, though the session never refreshes
// again, and after a restart too.
func TestSealedSuccessorWipedAfterGrace(t *testing.T) {
	c := newSessClock()
	path := filepath.Join(t.TempDir(), "test.db")
	s, err := Open(path, Options{Now: c.Now, TouchInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	alice := sessUser(t, s, "alice")
	newRotated := func() string {
		_, t0, err := s.CreateCLISession(NewSession{UserID: alice.ID, TTL: 24 * time.Hour}, AdminActor)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.RotateRefresh(t0, DefaultRefreshGrace, AdminActor); err != nil {
			t.Fatal(err)
		}
		return t0
	}
	t0 := newRotated()
	s.housekeep(time.Now())
	if !sealed(t, s, t0) {
		t.Fatal("successor wiped inside the grace window")
	}
	if _, err := s.RotateRefresh(t0, DefaultRefreshGrace, AdminActor); err != nil {
		t.Fatalf("a second refresh inside the window: %v", err)
	}
	c.Advance(DefaultRefreshGrace + time.Second)
	s.housekeep(time.Now())
	if sealed(t, s, t0) {
		t.Fatal("successor kept after the grace window")
	}

	// Pending wipes are in memory: a restart finds them in the store.
	t1 := newRotated()
	s.Close()
	c.Advance(DefaultRefreshGrace + time.Second)
	s, err = Open(path, Options{Now: c.Now, TouchInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !sealed(t, s, t1) {
		t.Fatal("test setup: nothing sealed")
	}
	s.housekeep(time.Now())
	if sealed(t, s, t1) {
		t.Error("successor kept after a restart")
	}
}
