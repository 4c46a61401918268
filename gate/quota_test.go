package gate

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/decision"
)

func TestPick(t *testing.T) {
	t.Parallel()
	anon := testBudget(t, config.Tier{Name: "anonymous", Rate: "1/1m"})
	free := testBudget(t, config.Tier{Name: "free", Rate: "2/1m"})
	pro := testBudget(t, config.Tier{Name: "pro", Rate: "3/1m"})
	search := testBudget(t, config.Tier{Name: "search", Rate: "4/1m"})
	l := &Budgets{
		Tiers:     map[string]*Budget{"anonymous": anon, "free": free, "pro": pro},
		Named:     map[string]*Budget{"search": search},
		Anonymous: anon, Fallback: free,
	}
	user := func(tier string) *Identity { return &Identity{User: &authstore.User{ID: "usr_1"}, Tier: tier} }
	for _, tc := range []struct {
		name string
		id   *Identity
		rule string
		want *Budget
	}{
		{"anonymous", decision.Anonymous, config.LimitTier, anon},
		{"no identity", nil, config.LimitTier, anon},
		{"user's tier", user("pro"), config.LimitTier, pro},
		{"undeclared tier falls back to the default", user("gold"), config.LimitTier, free},
		{"no_limit", user("pro"), config.LimitNone, nil},
		{"named budget", user("pro"), "search", search},
		{"named budget, anonymous", decision.Anonymous, "search", search},
	} {
		if got := l.Pick(tc.id, tc.rule); got != tc.want {
			t.Errorf("%s: picked %v, want %v", tc.name, got, tc.want)
		}
	}
	var none Budgets
	if b := none.Pick(user("free"), config.LimitTier); b != nil {
		t.Error("without tiers a user was limited")
	}
	if b := none.Pick(decision.Anonymous, config.LimitTier); b != nil {
		t.Error("without tiers an anonymous request was limited")
	}
}

func TestChargeHeaders(t *testing.T) {
	t.Parallel()
	b := testBudget(t, config.Tier{Name: "free", Rate: "3/1m", Burst: 2})
	for i, want := range []string{`"free";r=1;t=20`, `"free";r=0;t=40`} {
		w := httptest.NewRecorder()
		if d := b.Charge(w, "usr_hdr"); d != nil {
			t.Fatalf("request %d refused", i+1)
		}
		if got := w.Header().Get("RateLimit"); got != want {
			t.Errorf("request %d: RateLimit %q, want %q", i+1, got, want)
		}
		if got := w.Header().Get("RateLimit-Policy"); got != `"free";q=3;w=60` {
			t.Errorf("request %d: RateLimit-Policy %q", i+1, got)
		}
	}
	w := httptest.NewRecorder()
	d := b.Charge(w, "usr_hdr")
	if d == nil || d.Status != http.StatusTooManyRequests || d.Code != "rate_limited" {
		t.Fatalf("third request: %+v, want a 429", d)
	}
	if len(w.Header()) != 0 {
		t.Errorf("a refusal set headers on the response itself: %v", w.Header())
	}
	if d.Headers.Get("Retry-After") != "20" || d.Headers.Get("RateLimit") != `"free";r=0;t=20` {
		t.Errorf("refusal headers %v", d.Headers)
	}
}

// headerWriter is a ResponseWriter that only keeps headers, so the
// benchmark measures the limiter path and not a recorder.
type headerWriter http.Header

func (w headerWriter) Header() http.Header         { return http.Header(w) }
func (w headerWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w headerWriter) WriteHeader(int)             {}

// BenchmarkLimit is what rate limiting adds to an authenticated request:
// picking the tier, the GCRA decision and the two response fields.
func BenchmarkLimit(b *testing.B) {
	free := testBudget(b, config.Tier{Name: "free", Rate: "60000000/1m"})
	g := New(Config{Facts: directFacts{}, Budgets: Budgets{Tiers: map[string]*Budget{"free": free}}})
	id := &Identity{User: &authstore.User{ID: "usr_0123456789abcdef"}, Tier: "free"}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	w := headerWriter(http.Header{})
	b.ReportAllocs()
	for b.Loop() {
		if d := g.limit(w, r, id, config.LimitTier); d != nil {
			b.Fatal("refused")
		}
	}
}
