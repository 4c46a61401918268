package ratelimit

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// hammer runs workers goroutines that each call Allow(key(i)) n times and
// returns how many calls were allowed per key.
func hammer(l *Limiter, workers, n int, key func(i int) string) map[string]int {
	var (
		mu     sync.Mutex
		counts = make(map[string]int)
		start  = make(chan struct{})
		wg     sync.WaitGroup
	)
	for w := range workers {
		wg.Go(func() {
			local := make(map[string]int)
			<-start
			for i := range n {
				k := key(w*n + i)
				if l.Allow(k).Allowed {
					local[k]++
				}
			}
			mu.Lock()
			for k, c := range local {
				counts[k] += c
			}
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	return counts
}

func TestConcurrentOneKeyAllowsExactlyBurst(t *testing.T) {
	// With the clock frozen, no budget comes back: however the CAS races
	// go, exactly B requests may win.
	for _, burst := range []int{1, 100, 5000} {
		t.Run(strconv.Itoa(burst), func(t *testing.T) {
			l, _ := newTestLimiter(t, Policy{Name: "free", Count: 600, Window: time.Minute, Burst: burst}, Options{})
			got := hammer(l, 16, 2*burst, func(int) string { return "hot" })
			if got["hot"] != burst {
				t.Fatalf("allowed %d of %d concurrent requests; want exactly %d", got["hot"], 16*2*burst, burst)
			}
		})
	}
}

func TestConcurrentSweepLosesNothing(t *testing.T) {
	// Sweep races with the first request of every key (a fresh entry is
	// idle until its first CAS). Each key must still get exactly B.
	const keys, burst = 200, 5
	l, _ := newTestLimiter(t, Policy{Name: "free", Count: 1, Window: time.Hour, Burst: burst}, Options{})
	var stop atomic.Bool
	var sweeper sync.WaitGroup
	sweeper.Go(func() {
		for !stop.Load() {
			l.Sweep()
		}
	})
	got := hammer(l, 8, keys*burst, func(i int) string { return "k" + strconv.Itoa(i%keys) })
	stop.Store(true)
	sweeper.Wait()
	for i := range keys {
		k := "k" + strconv.Itoa(i)
		if got[k] != burst {
			t.Fatalf("%s: allowed %d; want exactly %d despite concurrent sweeps", k, got[k], burst)
		}
	}
}

func TestConcurrentEvictionStaysBounded(t *testing.T) {
	// Many goroutines flood a small limiter with distinct keys while the
	// clock moves; the bound holds and nothing deadlocks or panics.
	const maxKeys = 256
	l, c := newTestLimiter(t, Policy{Name: "free", Count: 10, Window: time.Second}, Options{MaxKeys: maxKeys})
	var stop atomic.Bool
	var bg sync.WaitGroup
	bg.Go(func() {
		for !stop.Load() {
			c.Advance(time.Millisecond)
			if n := l.Len(); n > maxKeys {
				t.Errorf("Len = %d; want <= %d", n, maxKeys)
			}
		}
	})
	hammer(l, 8, 5000, func(i int) string { return strconv.Itoa(i % 3000) })
	stop.Store(true)
	bg.Wait()
	if n := l.Len(); n > maxKeys {
		t.Fatalf("Len = %d; want <= %d", n, maxKeys)
	}
}
