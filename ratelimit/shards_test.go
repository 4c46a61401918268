package ratelimit

import (
	"strconv"
	"testing"
	"time"
	"unsafe"
)

func TestSweepDropsIdleKeysOnly(t *testing.T) {
	// One request back per second, bursts of 3.
	l, c := newTestLimiter(t, Policy{Name: "free", Count: 60, Window: time.Minute, Burst: 3}, Options{})
	l.Allow("one")   // TAT = 1s
	l.Allow("three") // TAT = 3s, drained
	l.Allow("three")
	l.Allow("three")

	if n := l.Sweep(); n != 0 {
		t.Fatalf("Sweep right away dropped %d keys; want 0", n)
	}
	c.Advance(time.Second) // "one" is exactly rested: TAT == now
	if n := l.Sweep(); n != 1 {
		t.Fatalf("Sweep after 1s dropped %d keys; want 1", n)
	}
	if got := l.Len(); got != 1 {
		t.Fatalf("Len = %d; want 1 (three)", got)
	}
	// "three" kept its state: one unit back after 1s, spent by this request.
	if d := l.Allow("three"); d != allowed(0, 3*time.Second) {
		t.Fatalf("three after sweep = %+v; want its state kept", d)
	}
	// "one" behaves as a new key, which is what it was equivalent to.
	if d := l.Allow("one"); d != allowed(2, time.Second) {
		t.Fatalf("one after sweep = %+v; want a fresh budget", d)
	}
	c.Advance(time.Hour)
	if n := l.Sweep(); n != 2 || l.Len() != 0 {
		t.Fatalf("Sweep after an hour dropped %d, left %d; want 2, 0", n, l.Len())
	}
}

func TestAllowRetriesOnSweptEntry(t *testing.T) {
	// An Allow that looked an entry up just before Sweep removed it must not
	// decide on the orphan: that decision would vanish with it.
	l, _ := newTestLimiter(t, Policy{Name: "free", Count: 1, Window: time.Minute}, Options{})
	s := l.keys.shard("k")
	e := s.insert("k", l.now())
	if n := l.Sweep(); n != 1 {
		t.Fatalf("Sweep dropped %d; want the fresh entry", n)
	}
	if _, ok := l.gcra.decide(e, l.now()); ok {
		t.Fatal("decide on a swept entry succeeded; want it to ask for a new lookup")
	}
	if d := l.Allow("k"); !d.Allowed {
		t.Fatalf("Allow after sweep = %+v; want allowed", d)
	}
	if d := l.Allow("k"); d.Allowed {
		t.Fatalf("second Allow = %+v; want refused (the first was recorded)", d)
	}
}

func TestMaxKeysBound(t *testing.T) {
	for _, maxKeys := range []int{1, 10, 100, 1000, 5000} {
		t.Run(strconv.Itoa(maxKeys), func(t *testing.T) {
			// A frozen clock and a slow rate keep every key active, so
			// nothing is idle and each insert into a full shard must evict.
			l, c := newTestLimiter(t, Policy{Name: "free", Count: 1, Window: time.Hour}, Options{MaxKeys: maxKeys})
			for i := range 10 * maxKeys {
				if d := l.Allow("k" + strconv.Itoa(i)); !d.Allowed {
					t.Fatalf("new key %d refused: %+v", i, d)
				}
				if n := l.Len(); n > maxKeys {
					t.Fatalf("after %d keys Len = %d; want <= %d", i+1, n, maxKeys)
				}
			}
			// And when keys go idle, the flood is dropped by eviction of idle
			// keys as well.
			c.Advance(2 * time.Hour)
			for i := range 10 * maxKeys {
				l.Allow("j" + strconv.Itoa(i))
			}
			if n := l.Len(); n > maxKeys {
				t.Fatalf("Len = %d; want <= %d", n, maxKeys)
			}
		})
	}
}

func TestEvictionPrefersIdleKeys(t *testing.T) {
	// MaxKeys 16 is one shard smaller than evictSample, so eviction sees
	// every key and the outcome is deterministic.
	l, c := newTestLimiter(t, Policy{Name: "free", Count: 1, Window: time.Second}, Options{MaxKeys: 16})
	for i := range 8 {
		l.Allow("idle" + strconv.Itoa(i)) // TAT = 1s
	}
	c.Advance(2 * time.Second)
	for i := range 8 {
		l.Allow("busy" + strconv.Itoa(i)) // TAT = 3s
	}
	// The first insert drops every idle key it sees, not just one, so the
	// next inserts find room without scanning.
	l.Allow("new0")
	if n := l.Len(); n != 9 {
		t.Fatalf("after one insert into a full shard Len = %d; want 9 (8 idle keys dropped)", n)
	}
	for i := 1; i < 8; i++ {
		l.Allow("new" + strconv.Itoa(i))
	}
	if n := l.Len(); n != 16 {
		t.Fatalf("Len = %d; want 16", n)
	}
	for i := range 8 {
		// A busy key that had been evicted would be allowed again.
		if d := l.Allow("busy" + strconv.Itoa(i)); d.Allowed {
			t.Fatalf("busy%d = %+v; want refused: eviction must take idle keys first", i, d)
		}
	}
}

func TestEvictionTakesOldestTAT(t *testing.T) {
	// Four active keys in a shard of four, each one request further from
	// idle than the last: an insert evicts the one closest to idle.
	l, _ := newTestLimiter(t, Policy{Name: "free", Count: 1, Window: time.Second, Burst: 10}, Options{MaxKeys: 4})
	for k := 1; k <= 4; k++ {
		for range k {
			l.Allow("k" + strconv.Itoa(k)) // TAT = k seconds
		}
	}
	l.Allow("k5") // evicts k1
	for k, remaining := range map[string]int{"k2": 7, "k3": 6, "k4": 5} {
		// Remaining after one more request proves the state was kept.
		if d := l.Allow(k); d.Remaining != remaining {
			t.Fatalf("%s = %+v; want Remaining %d (state kept)", k, d, remaining)
		}
	}
	// k5 (TAT 1s) is now the oldest and k1 returns with a fresh budget.
	if d := l.Allow("k1"); d != allowed(9, time.Second) {
		t.Fatalf("k1 = %+v; want a fresh budget after eviction", d)
	}
	if d := l.Allow("k5"); d != allowed(9, time.Second) {
		t.Fatalf("k5 = %+v; want a fresh budget after eviction", d)
	}
}

func TestKeysAreCopied(t *testing.T) {
	// Callers may pass a string that aliases a reused buffer (a zero-copy
	// view of a request header). The limiter must keep its own copy, or
	// the map key changes under it when the buffer is reused.
	l, _ := newTestLimiter(t, Policy{Name: "free", Count: 1, Window: time.Hour}, Options{})
	buf := []byte("203.0.113.7")
	l.Allow(unsafe.String(&buf[0], len(buf)))
	copy(buf, "198.51.100.9")
	if d := l.Allow("203.0.113.7"); d.Allowed {
		t.Fatalf("second request for 203.0.113.7 = %+v; want refused (state kept under its own key)", d)
	}
}

func TestShardLayout(t *testing.T) {
	for _, maxKeys := range []int{1, 63, 64, 128, 1000, 16384, 1 << 20, 1<<20 + 17} {
		tb := newTable(maxKeys)
		n := len(tb.shards)
		if n&(n-1) != 0 || n > maxShards {
			t.Errorf("MaxKeys %d: %d shards; want a power of two <= %d", maxKeys, n, maxShards)
		}
		total := 0
		for i := range tb.shards {
			total += tb.shards[i].limit
		}
		if total > maxKeys || total < maxKeys-n {
			t.Errorf("MaxKeys %d: shard limits add up to %d; want within %d below it", maxKeys, total, n)
		}
	}
	if n := len(newTable(DefaultMaxKeys).shards); n != maxShards {
		t.Errorf("default table has %d shards; want %d", n, maxShards)
	}
}

func TestNewOptions(t *testing.T) {
	p := Policy{Name: "free", Count: 10, Window: time.Minute}
	if _, err := New(p, Options{MaxKeys: -1}); err == nil {
		t.Error("New with MaxKeys -1 succeeded; want an error")
	}
	l, err := New(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := l.Allow("k"); d != allowed(9, 6*time.Second) {
		t.Errorf("Allow with the real clock = %+v", d)
	}
}

func TestAllowDoesNotAllocateForTrackedKey(t *testing.T) {
	l, c := newTestLimiter(t, Policy{Name: "free", Count: 1000, Window: time.Second}, Options{})
	key := string([]byte("user-2f1c9a"))
	l.Allow(key)
	allocs := testing.AllocsPerRun(1000, func() {
		c.Advance(time.Millisecond)
		l.Allow(key)
	})
	if allocs != 0 {
		t.Fatalf("Allow on a tracked key: %v allocations; want 0", allocs)
	}
}
