package ratelimit

import (
	"hash/maphash"
	"math"
	"strings"
	"sync"
)

const (
	// maxShards spreads write locks well beyond any core count we run on.
	maxShards = 256
	// minShardKeys keeps small limiters from splitting MaxKeys into shards
	// so small that one unlucky shard evicts while the others are empty.
	minShardKeys = 64
	// evictSample is how many entries an insert into a full shard looks at.
	// Go randomises where map iteration starts, so this is a random sample.
	evictSample = 32
)

// table is the key -> entry map, split into shards chosen by a hash of the
// key so that inserts and sweeps lock one shard, never the whole table.
type table struct {
	seed   maphash.Seed
	mask   uint64
	shards []shard
}

type shard struct {
	mu    sync.RWMutex
	m     map[string]*entry
	limit int // most keys this shard may hold
	// Keeps one shard's lock and map header off the cache line of the
	// next, so that cores working on different shards do not contend.
	_ [64]byte
}

func newTable(maxKeys int) *table {
	n := 1
	for n < maxShards && n*2*minShardKeys <= maxKeys {
		n *= 2
	}
	t := &table{
		// A per-table random seed keeps clients from choosing keys that all
		// land in one shard.
		seed:   maphash.MakeSeed(),
		mask:   uint64(n - 1),
		shards: make([]shard, n),
	}
	for i := range t.shards {
		t.shards[i].m = make(map[string]*entry)
		// Rounding down keeps the total at or under maxKeys.
		t.shards[i].limit = max(maxKeys/n, 1)
	}
	return t
}

func (t *table) shard(key string) *shard {
	return &t.shards[maphash.String(t.seed, key)&t.mask]
}

// get returns the entry for key, or nil if the key is not tracked.
func (s *shard) get(key string) *entry {
	s.mu.RLock()
	e := s.m[key]
	s.mu.RUnlock()
	return e
}

// insert returns the entry for key, adding a fresh one (making room first if
// the shard is full) unless another goroutine got there first.
func (s *shard) insert(key string, now int64) *entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.m[key]; e != nil {
		return e
	}
	if len(s.m) >= s.limit {
		s.makeRoom(now)
	}
	e := new(entry)
	// The caller's key may point into a larger buffer (a request header);
	// holding it would keep the whole buffer alive.
	s.m[strings.Clone(key)] = e
	return e
}

// makeRoom removes at least one entry from a full shard. Idle entries go
// first, since dropping them loses nothing; all idle entries in the sample go
// at once so that the next inserts find room without scanning. Otherwise the
// entry with the oldest TAT goes: it is the closest to idle, so forgetting it
// grants the least unearned budget. Called with s.mu held.
func (s *shard) makeRoom(now int64) {
	var (
		oldestKey string
		oldest    *entry
		oldestTAT int64 = math.MaxInt64
		freed     bool
		seen      int
	)
	for k, e := range s.m {
		tat := e.tat.Load()
		if tat <= now && e.tat.CompareAndSwap(tat, dead) {
			delete(s.m, k)
			freed = true
		} else if tat < oldestTAT {
			oldestKey, oldest, oldestTAT = k, e, tat
		}
		if seen++; seen == evictSample {
			break
		}
	}
	if !freed && oldest != nil {
		oldest.tat.Store(dead)
		delete(s.m, oldestKey)
	}
}

// sweep drops the shard's idle entries and reports how many it dropped. The
// compare-and-swap to dead fails if a concurrent Allow has just advanced the
// TAT, in which case the entry is no longer idle and stays.
func (s *shard) sweep(now int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, e := range s.m {
		if tat := e.tat.Load(); tat <= now && e.tat.CompareAndSwap(tat, dead) {
			delete(s.m, k)
			n++
		}
	}
	return n
}

func (s *shard) len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.m)
}
