package caddymodule

import (
	"net/http"
	"runtime"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/decision"
	"github.com/gatehouse/gatehouse/gate"
)

func TestSweepInterval(t *testing.T) {
	for _, tc := range []struct{ window, want time.Duration }{
		{time.Second, 10 * time.Second},
		{30 * time.Second, 30 * time.Second},
		{time.Hour, time.Minute},
	} {
		if got := sweepInterval(tc.window); got != tc.want {
			t.Errorf("sweepInterval(%v) = %v, want %v", tc.window, got, tc.want)
		}
	}
}

// TestLimitersSurviveReload plays two config generations the way Caddy
// runs them: the new one is provisioned before the old one is cleaned up.
func TestLimitersSurviveReload(t *testing.T) {
	g := config.Global{Tiers: []config.Tier{{Name: "anonymous", Rate: "2/1m"}, {Name: "free", Rate: "5/1m"}}}
	old := testApp(t, g)
	if d := old.limits.Anonymous.Limiter().Allow("198.51.100.1"); !d.Allowed {
		t.Fatal("first request refused")
	}

	// Same anonymous policy written differently ("2/60s burst 2"): shared.
	// free changed: fresh.
	g2 := config.Global{Tiers: []config.Tier{{Name: "anonymous", Rate: "2/60s", Burst: 2}, {Name: "free", Rate: "6/1m"}}}
	next := testApp(t, g2)
	if next.limits.Anonymous.Limiter() != old.limits.Anonymous.Limiter() {
		t.Error("an unchanged tier got a new limiter")
	}
	if next.limits.Tiers["free"].Limiter() == old.limits.Tiers["free"].Limiter() {
		t.Error("a changed tier kept its old limiter")
	}
	before := runtime.NumGoroutine()
	old.releaseLimits()
	old.releaseLimits() // Cleanup twice must not release twice
	if refs, _ := limiters.References("tier anonymous 2/60s burst 2"); refs != 1 {
		t.Errorf("the shared limiter has %d refs after the old generation let go, want 1", refs)
	}
	if d := next.limits.Anonymous.Limiter().Allow("198.51.100.1"); d.Remaining != 0 {
		t.Errorf("after reload Remaining = %d, want 0: the budget was reset", d.Remaining)
	}
	// The old free limiter lost its last user: its sweeper stops.
	if refs, ok := limiters.References("tier free 5/60s burst 5"); ok {
		t.Errorf("the old free limiter is still pooled (%d refs)", refs)
	}
	// Destruct waits for the sweeper to close its done channel; give the
	// goroutine the moment it needs to return after that (the deadline is
	// for a sweeper that never stops, not for a slow machine).
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before-1 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if after := runtime.NumGoroutine(); after != before-1 {
		t.Errorf("goroutines %d -> %d after the old generation let go; want one sweeper fewer", before, after)
	}
	next.releaseLimits()
	if refs, ok := limiters.References("tier anonymous 2/60s burst 2"); ok {
		t.Errorf("the anonymous limiter is still pooled (%d refs) after every generation let go", refs)
	}
}

// TestFailedProvisionReleasesNothingElse: a generation whose limits fail to
// provision holds nothing, so its Cleanup cannot release the running
// generation's limiters.
func TestFailedProvisionReleasesNothingElse(t *testing.T) {
	running := testApp(t, config.Global{Tiers: []config.Tier{{Name: "free", Rate: "4/1m"}}})
	p, err := compilePolicy(config.Global{Tiers: []config.Tier{{Name: "free", Rate: "4/1m"}}})
	if err != nil {
		t.Fatal(err)
	}
	p.Budgets = map[string]config.Tier{"broken": {Name: "broken", Rate: "nonsense"}}
	failed := &App{policy: p, logger: zap.NewNop()}
	if err := failed.provisionLimits(); err == nil {
		t.Fatal("a broken budget provisioned")
	}
	if err := failed.Cleanup(); err != nil {
		t.Fatal(err)
	}
	if refs, _ := limiters.References("tier free 4/60s burst 4"); refs != 1 {
		t.Errorf("running generation's limiter has %d refs, want 1", refs)
	}
	if d := running.limits.Tiers["free"].Limiter().Allow("k"); !d.Allowed {
		t.Error("running limiter broken")
	}
}

func TestPickBudget(t *testing.T) {
	a := testApp(t, config.Global{
		Tiers:       []config.Tier{{Name: "anonymous", Rate: "1/1m"}, {Name: "free", Rate: "2/1m"}, {Name: "pro", Rate: "3/1m"}},
		Budgets:     []config.Tier{{Name: "search", Rate: "4/1m"}},
		DefaultTier: "free",
	})
	l := &a.limits
	user := func(tier string) *Identity { return &Identity{User: &authstore.User{ID: "usr_1"}, Tier: tier} }
	for _, tc := range []struct {
		name string
		id   *Identity
		rule string
		want *gate.Budget
	}{
		{"anonymous", decision.Anonymous, config.LimitTier, l.Anonymous},
		{"user's tier", user("pro"), config.LimitTier, l.Tiers["pro"]},
		{"undeclared tier falls back to the default", user("gold"), config.LimitTier, l.Tiers["free"]},
		{"no_limit", user("pro"), config.LimitNone, nil},
		{"named budget", user("pro"), "search", l.Named["search"]},
		{"named budget, anonymous", decision.Anonymous, "search", l.Named["search"]},
	} {
		if got := l.Pick(tc.id, tc.rule); got != tc.want {
			t.Errorf("%s: picked %v, want %v", tc.name, got, tc.want)
		}
	}
	none := testApp(t, config.Global{})
	if b := none.limits.Pick(user("free"), config.LimitTier); b != nil {
		t.Error("without tiers a user was limited")
	}
	if b := none.limits.Pick(decision.Anonymous, config.LimitTier); b != nil {
		t.Error("without tiers an anonymous request was limited")
	}
}

// BenchmarkServeHTTPLimited is BenchmarkServeHTTP with tiers declared: the
// whole middleware for a PAT request, rate limit and RateLimit fields
// included, so the two show what limiting costs per request.
func BenchmarkServeHTTPLimited(b *testing.B) {
	h, tok := benchHandler(b)
	p, err := compilePolicy(config.Global{
		Scopes: h.app.policy.Scopes,
		Tiers:  []config.Tier{{Name: "anonymous", Rate: "60/1m"}, {Name: "free", Rate: "60000000/1m"}},
	})
	if err != nil {
		b.Fatal(err)
	}
	h.app.policy = p
	if err := h.app.provisionLimits(); err != nil {
		b.Fatal(err)
	}
	h.app.gate = h.app.newGate()
	b.Cleanup(h.app.releaseLimits)
	_, resp := benchServe(b, h, "GET", "/api/papers/42", http.Header{"Authorization": {"Bearer " + tok}})
	if resp.Get("RateLimit-Policy") != `"free";q=60000000;w=60` {
		b.Fatalf("no RateLimit-Policy: %v", resp)
	}
}
