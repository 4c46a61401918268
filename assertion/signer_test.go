package assertion_test

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse/gatehouse/assertion"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/decision"
)

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// fixture is a real store, a Signer over it, a JWKS server over the
// store, and an upstream's Verifier fetching from it.
type fixture struct {
	clock  *testClock
	store  *authstore.Store
	signer *assertion.Signer
	verify *Verifier
}

func newFixture(t *testing.T, alg string) *fixture {
	t.Helper()
	c := &testClock{now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
	s, err := authstore.Open(filepath.Join(t.TempDir(), "g.db"), authstore.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	signer, err := assertion.New(assertion.Config{Keys: func() assertion.Keys { return s }, Issuer: "https://gw.test", Alg: alg, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keys, err := s.AssertionKeys()
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		if err := assertion.ServeJWKS(w, keys, c.Now()); err != nil {
			t.Error(err)
		}
	}))
	t.Cleanup(srv.Close)
	v := &Verifier{JWKSURL: srv.URL, Issuer: "https://gw.test", Audience: "https://api.test", Client: srv.Client(), Now: c.Now}
	return &fixture{clock: c, store: s, signer: signer, verify: v}
}

func alice() *decision.Identity {
	return &decision.Identity{Credential: decision.CredentialPAT, Tier: "pro", Scopes: []string{"read", "write"},
		User: &authstore.User{ID: "usr_a", Login: "alice"}, PAT: &authstore.PAT{ID: "tok_a"}}
}

// TestAssertionVerifies: an independent verifier (go-jose reading the
// JWKS, golang-jwt checking the JWT) accepts what the Signer signs, for
// both algorithms, and reads every claim.
func TestAssertionVerifies(t *testing.T) {
	t.Parallel()
	for _, alg := range []string{authstore.AlgEdDSA, authstore.AlgES256} {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, alg)
			tok, err := f.signer.Assertion(alice(), "https://api.test")
			if err != nil {
				t.Fatal(err)
			}
			c, err := f.verify.Verify(tok)
			if err != nil {
				t.Fatal(err)
			}
			if c.Subject != "usr_a" || c.Login != "alice" || c.Tier != "pro" || c.Credential != "pat" || c.TokenID != "tok_a" ||
				strings.Join(c.Scopes, " ") != "read write" || c.ID == "" || c.Issuer != "https://gw.test" {
				t.Errorf("claims %+v", c)
			}
			if life := c.ExpiresAt.Sub(c.IssuedAt.Time); life != assertion.MaxTTL {
				t.Errorf("lifetime %s", life)
			}
			parsed, _, _ := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
			if parsed.Header["alg"] != alg {
				t.Errorf("alg %v", parsed.Header["alg"])
			}
			// The wrong audience and a tampered payload are refused.
			other := &Verifier{JWKSURL: f.verify.JWKSURL, Issuer: f.verify.Issuer, Audience: "https://other.test", Client: f.verify.Client, Now: f.clock.Now}
			if _, err := other.Verify(tok); err == nil {
				t.Error("accepted for another audience")
			}
			parts := strings.Split(tok, ".")
			forged, _ := f.signer.Assertion(&decision.Identity{Credential: "pat", Tier: "pro", User: &authstore.User{ID: "usr_root", Login: "root"}, PAT: &authstore.PAT{ID: "tok_r"}}, "https://api.test")
			if _, err := f.verify.Verify(parts[0] + "." + strings.Split(forged, ".")[1] + "." + parts[2]); err == nil {
				t.Error("a swapped payload verified")
			}
		})
	}
}

// TestAssertionExpiryAndCache: an assertion is reused for half its life,
// re-signed after, refused by the verifier once expired, and re-signed
// at once when the identity it states changes.
func TestAssertionExpiryAndCache(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "")
	id := alice()
	first, _ := f.signer.Assertion(id, "https://api.test")
	f.clock.Advance(29 * time.Second)
	if again, _ := f.signer.Assertion(id, "https://api.test"); again != first {
		t.Error("not reused within half its life")
	}
	if other, _ := f.signer.Assertion(id, "https://other.test"); other == first {
		t.Error("reused for another audience")
	}
	fewer := alice()
	fewer.Scopes = []string{"read"}
	if changed, _ := f.signer.Assertion(fewer, "https://api.test"); changed == first {
		t.Error("reused after the scopes changed")
	}
	f.clock.Advance(2 * time.Second)
	if next, _ := f.signer.Assertion(fewer, "https://api.test"); next == first {
		t.Error("reused after half its life")
	}
	f.clock.Advance(30 * time.Second) // 61 s after first was signed
	if _, err := f.verify.Verify(first); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("an expired assertion: %v", err)
	}
}

// TestAssertionRotation: after a rotation new assertions carry the new
// kid, which the verifier learns by refetching the JWKS, and the old
// ones still verify during the overlap.
func TestAssertionRotation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "")
	old, _ := f.signer.Assertion(alice(), "https://api.test")
	if _, err := f.verify.Verify(old); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.RotateAssertionKey(authstore.AlgEdDSA, time.Hour, authstore.AdminActor); err != nil {
		t.Fatal(err)
	}
	fresh, _ := f.signer.Assertion(alice(), "https://api.test")
	if fresh == old || kid(t, fresh) == kid(t, old) {
		t.Fatal("the cache served an assertion of the rotated-out key")
	}
	if _, err := f.verify.Verify(fresh); err != nil {
		t.Errorf("new kid: %v", err)
	}
	if _, err := f.verify.Verify(old); err != nil {
		t.Errorf("old kid during the overlap: %v", err)
	}
	// After the overlap, a verifier that refetches no longer finds the old key.
	f.clock.Advance(2 * time.Hour)
	late := &Verifier{JWKSURL: f.verify.JWKSURL, Issuer: f.verify.Issuer, Audience: f.verify.Audience, Client: f.verify.Client,
		Now: func() time.Time { return f.clock.Now().Add(-2 * time.Hour) }}
	if _, err := late.Verify(old); err == nil || !strings.Contains(err.Error(), "unknown kid") {
		t.Errorf("old kid after the overlap: %v", err)
	}
}

func kid(t *testing.T, tok string) string {
	t.Helper()
	p, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	return p.Header["kid"].(string)
}

func TestSignerConfig(t *testing.T) {
	t.Parallel()
	keys := func() assertion.Keys { return nil }
	for _, c := range []assertion.Config{
		{Keys: keys, Alg: "HS256"},
		{Keys: keys, TTL: 2 * time.Minute},
		{Keys: keys, TTL: time.Millisecond},
		{},
	} {
		if _, err := assertion.New(c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

// BenchmarkAssertion is the proxy path's cost of an assertion: a cache
// hit, and a signature for each algorithm.
func BenchmarkAssertion(b *testing.B) {
	s, err := authstore.Open(filepath.Join(b.TempDir(), "g.db"), authstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for _, tc := range []struct {
		name, alg string
		hit       bool
	}{{"cached", authstore.AlgEdDSA, true}, {"sign-EdDSA", authstore.AlgEdDSA, false}, {"sign-ES256", authstore.AlgES256, false}} {
		b.Run(tc.name, func(b *testing.B) {
			signer, _ := assertion.New(assertion.Config{Keys: func() assertion.Keys { return s }, Alg: tc.alg, CacheSize: 1})
			id := alice()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				aud := "a"
				if !tc.hit && i%2 == 1 {
					aud = "b" // a cache of one: alternating audiences always sign
				}
				if _, err := signer.Assertion(id, aud); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
