package caddymodule

import (
	"strconv"
	"sync"
	"testing"
	"time"
)

// fail is a whole failed attempt on one key.
func (b *backoff) fail(now time.Time, key string, free int) time.Duration {
	_, wait := b.begin(now, limit{key, free})
	return wait
}

// lockOf reports how long key stays locked at now.
func (b *backoff) lockOf(now time.Time, key string) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if f, ok := b.m[key]; ok && f.until.After(now) {
		return f.until.Sub(now)
	}
	return 0
}

func TestBackoff(t *testing.T) {
	b := newBackoff()
	now := time.Unix(1_700_000_000, 0)
	for range 2 {
		b.fail(now, "k", 3)
	}
	if w := b.lockOf(now, "k"); w != 0 {
		t.Fatalf("locked within the free failures: %v", w)
	}
	// The failure that uses up the free ones locks; each later one
	// doubles the lock (each is begun once the previous lock is over).
	at := now
	for _, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second} {
		if w := b.fail(at, "k", 3); w != 0 {
			t.Fatalf("refused after its lock ended: %v", w)
		}
		if w := b.lockOf(at, "k"); w != want {
			t.Fatalf("lock %v, want %v", w, want)
		}
		// While locked, an attempt is refused and counts nothing.
		if a, w := b.begin(at, limit{"other", 3}, limit{"k", 3}); a != nil || w != want {
			t.Fatalf("locked key: attempt %v, wait %v", a, w)
		}
		if _, ok := b.m["other"]; ok {
			t.Fatal("a refused attempt counted against its other key")
		}
		at = at.Add(want)
	}
	for range 30 {
		b.fail(at, "k", 3)
		at = at.Add(b.lockOf(at, "k"))
	}
	if w := b.fail(at, "k", 3); w != 0 || b.lockOf(at, "k") != backoffCap {
		t.Fatalf("lock %v, want the cap %v", b.lockOf(at, "k"), backoffCap)
	}
	// A day without failures starts the count afresh.
	later := at.Add(backoffForget + time.Hour)
	b.fail(later, "k", 3)
	if w := b.lockOf(later, "k"); w != 0 {
		t.Fatalf("an old count was kept: %v", w)
	}
}

// TestBackoffSettle checks how an attempt is settled: clear forgets the
// key, refund takes back exactly the attempt's failure and any lock it
// imposed, and a lock imposed by a real failure meanwhile stays.
func TestBackoffSettle(t *testing.T) {
	b := newBackoff()
	now := time.Unix(1_700_000_000, 0)
	acct, ip := limit{"acct", 2}, limit{"ip", 3}
	b.begin(now, acct, ip) // one real failure of each

	a, _ := b.begin(now, acct, ip)
	if b.lockOf(now, "acct") == 0 {
		t.Fatal("the provisional failure using up the free ones did not lock")
	}
	a.clear("acct")
	a.refund("ip")
	a.refund("ip") // refunding twice takes back one failure only
	if _, ok := b.m["acct"]; ok {
		t.Error("clear kept the account")
	}
	if f := b.m["ip"]; f == nil || f.n != 1 || b.lockOf(now, "ip") != 0 {
		t.Errorf("refund left %+v", f)
	}

	// The third IP attempt uses up the free failures; refunding it lifts
	// the lock it set.
	b.begin(now, ip)
	a, _ = b.begin(now, ip)
	if b.lockOf(now, "ip") == 0 {
		t.Fatal("not locked")
	}
	a.refund("ip")
	if w := b.lockOf(now, "ip"); w != 0 || b.m["ip"].n != 2 {
		t.Errorf("after the refund: lock %v, count %d", w, b.m["ip"].n)
	}

	// A lock imposed after the attempt began is not the attempt's to lift.
	a, _ = b.begin(now, ip)
	later := now.Add(2 * time.Second)
	b.m["ip"].until = time.Time{}
	b.begin(later, ip) // a real failure, locking anew
	a.refund("ip")
	if w := b.lockOf(later, "ip"); w == 0 {
		t.Error("a refund lifted another failure's lock")
	}
	if a, w := b.begin(now, limit{"fresh", 1}); a == nil || w != 0 {
		t.Fatal("a new key is refused")
	} else {
		a.refundAll()
		if _, ok := b.m["fresh"]; ok {
			t.Error("a refunded first attempt left its key behind")
		}
	}
}

// TestBackoffConcurrentAttempts is the race the begin step exists for: of
// many concurrent attempts on one key, only the free ones get through.
func TestBackoffConcurrentAttempts(t *testing.T) {
	b := newBackoff()
	now := time.Unix(1_700_000_000, 0)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		allowed int
	)
	for i := range 40 {
		wg.Go(func() {
			a, _ := b.begin(now, limit{"acct", accountFreeFailures}, limit{"ip" + strconv.Itoa(i%2), ipFreeFailures})
			if a != nil {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if allowed != accountFreeFailures {
		t.Fatalf("%d attempts got through, want %d", allowed, accountFreeFailures)
	}
}

func TestBackoffIsBounded(t *testing.T) {
	b := newBackoff()
	now := time.Unix(1_700_000_000, 0)
	for i := range backoffMaxKeys + 1000 {
		b.fail(now, "key"+strconv.Itoa(i), 5)
	}
	if len(b.m) > backoffMaxKeys || len(b.m) < backoffMaxKeys/2 {
		t.Fatalf("%d keys, bound %d", len(b.m), backoffMaxKeys)
	}
}
