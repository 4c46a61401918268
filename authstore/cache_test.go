package authstore

import (
	"errors"
	"testing"
)

// clear drops every entry, as an invalidation does, so benchmarks and
// tests can measure or exercise the cold path.

// TestCacheLoad checks the one read-through path: a miss reads and fills,
// a hit does not read, an error is not cached, and a read that an
// invalidation overtook is returned to its caller but not cached.
func TestCacheLoad(t *testing.T) {
	c := newCache[string, int](64, stringShard)
	reads := 0
	read := func(v int, err error) func() (int, error) {
		return func() (int, error) { reads++; return v, err }
	}
	if v, err := c.load("k", read(1, nil)); v != 1 || err != nil || reads != 1 {
		t.Fatalf("miss: %d %v, %d reads", v, err, reads)
	}
	if v, _ := c.load("k", read(2, nil)); v != 1 || reads != 1 {
		t.Fatalf("hit: %d, %d reads", v, reads)
	}
	boom := errors.New("boom")
	if _, err := c.load("e", read(0, boom)); !errors.Is(err, boom) {
		t.Fatalf("error: %v", err)
	}
	if _, ok := c.get("e"); ok {
		t.Fatal("an error was cached")
	}
	// A revoke commits and invalidates while the read is under way.
	v, _ := c.load("r", func() (int, error) {
		c.invalidate("r")
		return 7, nil
	})
	if _, ok := c.get("r"); ok || v != 7 {
		t.Fatalf("a fill overtaken by an invalidation was cached (got %d)", v)
	}
	c.clear()
	if c.len() != 0 {
		t.Fatal("clear kept entries")
	}
}
