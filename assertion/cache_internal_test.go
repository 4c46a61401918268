package assertion

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/decision"
)

// TestCacheBoundsAudience: the default audience is the Host the client
// sent, so an entry keyed by a long one is never kept: the cache's count
// bound must also bound its memory, whatever hosts a catch-all site is
// sent.
func TestCacheBoundsAudience(t *testing.T) {
	t.Parallel()
	st, err := authstore.Open(filepath.Join(t.TempDir(), "g.db"), authstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s, err := New(Config{Keys: func() Keys { return st }, Issuer: "gw"})
	if err != nil {
		t.Fatal(err)
	}
	id := decision.Anonymous
	if _, err := s.Assertion(id, strings.Repeat("a", 64<<10)); err != nil {
		t.Fatal(err)
	}
	if len(s.cache) != 0 {
		t.Errorf("a 64 KiB audience was cached")
	}
	if _, err := s.Assertion(id, "https://kp.example.com"); err != nil {
		t.Fatal(err)
	}
	if len(s.cache) != 1 {
		t.Errorf("%d entries, want the ordinary audience cached", len(s.cache))
	}
}
