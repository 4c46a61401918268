package authstore

import (
	"sync"
	"sync/atomic"
)

const cacheShards = 32

// cache is a bounded, sharded read-through cache of immutable snapshots.
//
// Invalidation must win every race with a concurrent fill: a reader that
// loaded a record from bbolt just before a revoke committed must not put the
// stale record back after the revoke invalidated it. So each fill carries
// the generation it read under, and invalidate bumps the generation before
// deleting; a fill whose generation is stale is dropped.
type cache[K comparable, V any] struct {
	gen      atomic.Uint64
	perShard int
	shardOf  func(K) uint32
	shards   [cacheShards]cacheShard[K, V]
}

type cacheShard[K comparable, V any] struct {
	mu sync.RWMutex
	m  map[K]V
}

func newCache[K comparable, V any](size int, shardOf func(K) uint32) *cache[K, V] {
	c := &cache[K, V]{perShard: max(1, size/cacheShards), shardOf: shardOf}
	for i := range c.shards {
		c.shards[i].m = make(map[K]V)
	}
	return c
}

func (c *cache[K, V]) shard(k K) *cacheShard[K, V] {
	return &c.shards[c.shardOf(k)%cacheShards]
}

// generation is read before a fill's store read.
func (c *cache[K, V]) generation() uint64 { return c.gen.Load() }

func (c *cache[K, V]) get(k K) (V, bool) {
	s := c.shard(k)
	s.mu.RLock()
	v, ok := s.m[k]
	s.mu.RUnlock()
	return v, ok
}

// load returns k's value from the cache, or on a miss reads it with read
// and fills the cache with it. This is the one read-through path: the
// generation is taken before read, so if an invalidation (a revoke that
// committed after read saw the old record) happens meanwhile, the stale
// value is returned to this caller only and never cached. Errors are not
// cached.
func (c *cache[K, V]) load(k K, read func() (V, error)) (V, error) {
	if v, ok := c.get(k); ok {
		return v, nil
	}
	gen := c.generation()
	v, err := read()
	if err != nil {
		return v, err
	}
	c.fill(k, v, gen)
	return v, nil
}

// fill stores v unless an invalidation happened since gen was read.
func (c *cache[K, V]) fill(k K, v V, gen uint64) {
	s := c.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.gen.Load() != gen {
		return
	}
	if _, ok := s.m[k]; !ok && len(s.m) >= c.perShard {
		for old := range s.m { // map order is random: evict an arbitrary entry
			delete(s.m, old)
			break
		}
	}
	s.m[k] = v
}

// invalidate drops k; call it after the write that changed k committed.
func (c *cache[K, V]) invalidate(k K) {
	c.gen.Add(1)
	s := c.shard(k)
	s.mu.Lock()
	delete(s.m, k)
	s.mu.Unlock()
}

// clear drops every entry (a signing-key rotation makes every verified
// JWT suspect).
func (c *cache[K, V]) clear() {
	c.gen.Add(1)
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		clear(s.m)
		s.mu.Unlock()
	}
}

func (c *cache[K, V]) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}

// stringShard is FNV-1a, inlined so a lookup does not allocate.
func stringShard(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}
