package gate

import (
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/ratelimit"
)

// directFacts reads the connection as it is: no proxy is trusted.
type directFacts struct{}

func (directFacts) ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (directFacts) IsHTTPS(r *http.Request) bool { return r.TLS != nil }

// testPolicy compiles g with the validators the adapter uses.
func testPolicy(tb testing.TB, g config.Global) *config.Policy {
	tb.Helper()
	p, err := config.Compile(g, config.Checks{Rate: ratelimit.ParseRate, Prefix: authstore.ValidatePrefix})
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// testStore is a fresh store, closed when the test ends.
func testStore(tb testing.TB) *authstore.Store {
	tb.Helper()
	s, err := authstore.Open(filepath.Join(tb.TempDir(), "gatehouse.db"), authstore.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// testBudget is a budget of the given tier over a limiter of its own.
func testBudget(tb testing.TB, t config.Tier) *Budget {
	tb.Helper()
	count, window, err := ratelimit.ParseRate(t.Rate)
	if err != nil {
		tb.Fatal(err)
	}
	policy := ratelimit.Policy{Name: t.Name, Count: count, Window: window, Burst: t.Burst}
	if policy.Burst == 0 {
		policy.Burst = count
	}
	lim, err := ratelimit.New(policy, ratelimit.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return NewBudget(lim, policy, nil)
}

// testGate is a gate over a fresh store with g's policy and no budgets.
func testGate(tb testing.TB, g config.Global) (*Gate, *authstore.Store) {
	tb.Helper()
	s := testStore(tb)
	return New(Config{Policy: testPolicy(tb, g), Store: s, Facts: directFacts{}}), s
}

// mintPAT creates a 30-day PAT for u straight in the store.
func mintPAT(tb testing.TB, g *Gate, s *authstore.Store, u *authstore.User, scopes []string) string {
	tb.Helper()
	tok, _, err := s.CreatePAT(authstore.NewPAT{
		UserID: u.ID, Prefix: g.policy.TokenPrefix, Name: "test", Scopes: scopes,
		ExpiresAt: time.Now().Add(30 * 24 * time.Hour), CreatedVia: authstore.ViaAdmin,
	}, authstore.AdminActor)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}
