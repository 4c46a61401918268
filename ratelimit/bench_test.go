package ratelimit

import (
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// The benchmarks use the real clock: time.Now is part of every Allow.
var benchPolicy = Policy{Name: "free", Count: 600, Window: time.Minute, Burst: 100}

func newBenchLimiter(b *testing.B, maxKeys int) *Limiter {
	b.Helper()
	l, err := New(benchPolicy, Options{MaxKeys: maxKeys})
	if err != nil {
		b.Fatal(err)
	}
	return l
}

// BenchmarkAllow is the hot path: one tracked key, one goroutine.
func BenchmarkAllow(b *testing.B) {
	l := newBenchLimiter(b, 0)
	key := "user:01HZX3K9Q7W2M4N8P6R5T1V0YB"
	l.Allow(key)
	b.ReportAllocs()
	for b.Loop() {
		l.Allow(key)
	}
}

// BenchmarkAllowParallel spreads goroutines over 10k tracked keys, as a busy
// gateway does; run it with -cpu 1,2,4,… to see it scale.
func BenchmarkAllowParallel(b *testing.B) {
	const n = 10_000
	l := newBenchLimiter(b, 0)
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "user:" + strconv.Itoa(i)
		l.Allow(keys[i])
	}
	var worker atomic.Uint32
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		// Each goroutine walks the keys from its own offset with a stride
		// coprime to n, so goroutines rarely meet on a key.
		i := int(worker.Add(1)) * 7919
		for pb.Next() {
			l.Allow(keys[i%n])
			i += 7
		}
	})
}

// BenchmarkAllowParallelOneKey is the worst case: every goroutine on one
// key, so every CAS contends. It shows the cost of contention, not scaling.
func BenchmarkAllowParallelOneKey(b *testing.B) {
	l := newBenchLimiter(b, 0)
	l.Allow("hot")
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Allow("hot")
		}
	})
}

// BenchmarkAllowNewKeys measures the insert path, with eviction once the
// limiter is full.
func BenchmarkAllowNewKeys(b *testing.B) {
	keys := make([]string, 1<<16)
	for i := range keys {
		keys[i] = "user:" + strconv.Itoa(i)
	}
	l := newBenchLimiter(b, 1<<12)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		l.Allow(keys[i&(len(keys)-1)])
		i++
	}
}

// BenchmarkMemoryPerKey reports the heap held per tracked key (map slot,
// entry and the copied key) with a million keys tracked.
func BenchmarkMemoryPerKey(b *testing.B) {
	const n = 1_000_000
	for _, kind := range []struct {
		name string
		key  func(i int) string
	}{
		{"ipv4", func(i int) string { return fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255) }},
		{"uuid", func(i int) string { return fmt.Sprintf("0195f3c2-7a4e-7c1b-9d2e-%012x", i) }},
	} {
		b.Run(kind.name, func(b *testing.B) {
			keys := make([]string, n)
			for i := range keys {
				keys[i] = kind.key(i)
			}
			var perKey float64
			for b.Loop() {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				l := newBenchLimiter(b, 2*n)
				for _, k := range keys {
					l.Allow(k)
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				if l.Len() != n {
					b.Fatalf("Len = %d; want %d", l.Len(), n)
				}
				perKey = float64(after.HeapAlloc-before.HeapAlloc) / n
				runtime.KeepAlive(l)
			}
			b.ReportMetric(perKey, "B/key")
		})
	}
}
