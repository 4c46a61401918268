package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/api"
)

// The tier tests use small rates so that nothing refills while a test runs:
// free is 3/1m (one request back every 20s) with a burst of 2, pro 6/1m
// with a burst of 4, anonymous 3/1m.
const tiersGlobal = defaultGlobal + `
tier anonymous 3/1m
tier free 3/1m burst 2
tier pro 6/1m burst 4
budget search 2/1m
default_tier free`

const tiersSite = `endpoints
rule GET /healthz anonymous no_limit
rule GET /api/wiki/* anonymous
rule GET /api/search/* anonymous limit search
rule GET /api/papers/* scope papers:read
default authenticated`

// trustLoopback makes Caddy take the client IP from X-Forwarded-For when
// the peer is on loopback, as behind a local load balancer.
const trustLoopback = `trusted_proxies static 127.0.0.1/8`

// newLimitedGateway starts a gateway with fresh rate-limit state. Limiter
// state deliberately survives a config load whose tiers did not change,
// and every test's anonymous requests come from 127.0.0.1, so without the
// reset an earlier test's spending would show here.
func newLimitedGateway(t *testing.T, s setup) *gateway {
	t.Helper()
	resetLimits(t)
	if s.global == "" {
		s.global = tiersGlobal
	}
	if s.site == "" {
		s.site = tiersSite
	}
	return newGateway(t, s)
}

// resetLimits loads a config without Gatehouse, so the previous config's
// limiters are released.
func resetLimits(t *testing.T) {
	t.Helper()
	tester := newTester(t)
	tester.InitServer(fmt.Sprintf(`{
	admin localhost:%d
	http_port %d
	https_port %d
	grace_period 1ns
	skip_install_trust
	auto_https off
}
http://127.0.0.1:%d {
	respond "no gatehouse"
}
`, adminPort, httpPort, httpsPort, httpPort), "caddyfile")
	if t.Failed() {
		t.FailNow()
	}
}

// reload loads s into the running server as `caddy reload` does; force
// reloads even an identical config (`caddy reload --force`).
func (g *gateway) reload(s setup, force bool) {
	g.t.Helper()
	if s.global == "" {
		s.global = tiersGlobal
	}
	if s.site == "" {
		s.site = tiersSite
	}
	s.store = g.store
	req, _ := http.NewRequest("POST", fmt.Sprintf("http://localhost:%d/load", adminPort), strings.NewReader(g.caddyfile(s)))
	req.Header.Set("Content-Type", "text/caddyfile")
	if force {
		req.Header.Set("Cache-Control", "must-revalidate")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatalf("reload: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		g.t.Fatalf("reload: HTTP %d: %s", resp.StatusCode, body)
	}
}

var rateLimitRE = regexp.MustCompile(`^"([^"]+)";r=(\d+);t=(\d+)$`)

// rateLimit parses a RateLimit field value.
func rateLimit(t *testing.T, v string) (policy string, r, reset int) {
	t.Helper()
	m := rateLimitRE.FindStringSubmatch(v)
	if m == nil {
		t.Fatalf("RateLimit %q is not one policy item with r and t", v)
	}
	r, _ = strconv.Atoi(m[2])
	reset, _ = strconv.Atoi(m[3])
	return m[1], r, reset
}

// within reports whether got is want, or up to 2s less: seconds of t count
// down while the test runs, and are rounded up.
func within(got, want int) bool { return got <= want && got >= want-2 }

// expectAllowed checks an allowed response's RateLimit fields.
func expectAllowed(t *testing.T, resp *http.Response, body []byte, policy, policyHeader string, remaining, reset int) {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", resp.StatusCode, body)
	}
	expectFields(t, resp, policy, policyHeader, remaining, reset)
}

// expectFields checks the RateLimit fields of a request that was charged
// and allowed, whatever its status.
func expectFields(t *testing.T, resp *http.Response, policy, policyHeader string, remaining, reset int) {
	t.Helper()
	if got := resp.Header.Get("RateLimit-Policy"); got != policyHeader {
		t.Errorf("RateLimit-Policy %q, want %q", got, policyHeader)
	}
	name, r, tt := rateLimit(t, resp.Header.Get("RateLimit"))
	if name != policy || r != remaining || !within(tt, reset) {
		t.Errorf("RateLimit %q, want %q;r=%d;t=%d", resp.Header.Get("RateLimit"), policy, remaining, reset)
	}
	if resp.Header.Get("Retry-After") != "" {
		t.Errorf("an allowed response has Retry-After %q", resp.Header.Get("Retry-After"))
	}
}

// expectLimited checks a 429: Retry-After in whole seconds, the RateLimit
// fields with r=0 and t equal to Retry-After, and the JSON body.
func expectLimited(t *testing.T, resp *http.Response, body []byte, policy, policyHeader string, retry int) {
	t.Helper()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429; body %s", resp.StatusCode, body)
	}
	ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || !within(ra, retry) {
		t.Errorf("Retry-After %q, want %d (delay-seconds)", resp.Header.Get("Retry-After"), retry)
	}
	if got := resp.Header.Get("RateLimit-Policy"); got != policyHeader {
		t.Errorf("RateLimit-Policy %q, want %q", got, policyHeader)
	}
	name, r, tt := rateLimit(t, resp.Header.Get("RateLimit"))
	if name != policy || r != 0 || tt != ra {
		t.Errorf("RateLimit %q, want %q;r=0;t=%d", resp.Header.Get("RateLimit"), policy, ra)
	}
	if resp.Header.Get("WWW-Authenticate") != "" {
		t.Errorf("a 429 carries a challenge: %q", resp.Header.Get("WWW-Authenticate"))
	}
	var e api.Error
	if err := json.Unmarshal(body, &e); err != nil || e.Error != "rate_limited" || !strings.Contains(e.Message, policy) {
		t.Errorf("body %s: want error rate_limited and a message naming %s", body, policy)
	}
}

// TestTierBudgets spends each tier's burst and checks every response's
// RateLimit fields, the 429 that follows, and that the upstream saw the
// tier on the allowed requests only.
func TestTierBudgets(t *testing.T) {
	g := newLimitedGateway(t, setup{})
	g.addUser("alice", "tier", "free")
	g.addUser("bob", "tier", "pro")
	g.addUser("dora") // the default tier: free
	alice := g.mint("alice", 30, "wiki:read")
	bob := g.mint("bob", 30, "wiki:read")
	dora := g.mint("dora", 30, "wiki:read")

	for _, tc := range []struct {
		name     string
		headers  []string
		tier     string
		policy   string
		burst    int
		interval int // seconds per request
	}{
		{"anonymous", nil, "anonymous", `"anonymous";q=3;w=60`, 3, 20},
		{"free, burst 2", []string{"Authorization: Bearer " + alice}, "free", `"free";q=3;w=60`, 2, 20},
		{"pro, burst 4", []string{"Authorization: Bearer " + bob}, "pro", `"pro";q=6;w=60`, 4, 10},
		{"default tier", []string{"Authorization: Bearer " + dora}, "free", `"free";q=3;w=60`, 2, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i := 1; i <= tc.burst; i++ {
				resp, body := g.get("/api/wiki/page", tc.headers...)
				expectAllowed(t, resp, body, tc.tier, tc.policy, tc.burst-i, i*tc.interval)
				if got := g.upstream.lastRequest().Header.Get("Gatehouse-Tier"); got != tc.tier {
					t.Errorf("upstream saw Gatehouse-Tier %q, want %q", got, tc.tier)
				}
			}
			before := g.upstream.hitCount()
			resp, body := g.get("/api/wiki/page", tc.headers...)
			expectLimited(t, resp, body, tc.tier, tc.policy, tc.interval)
			if g.upstream.hitCount() != before {
				t.Error("a refused request reached the upstream")
			}
		})
	}
}

// TestUserBudgetIsShared: all of a user's tokens draw on one budget, and
// another user of the same tier has their own.
func TestUserBudgetIsShared(t *testing.T) {
	g := newLimitedGateway(t, setup{})
	g.addUser("alice", "tier", "free")
	g.addUser("carol", "tier", "free")
	first := "Authorization: Bearer " + g.mint("alice", 30, "wiki:read")
	second := "Authorization: Bearer " + g.mint("alice", 30, "wiki:read", "papers:read")
	carol := "Authorization: Bearer " + g.mint("carol", 30, "wiki:read")
	policy := `"free";q=3;w=60`

	resp, body := g.get("/api/wiki/a", first)
	expectAllowed(t, resp, body, "free", policy, 1, 20)
	resp, body = g.get("/api/papers/1", second)
	expectAllowed(t, resp, body, "free", policy, 0, 40)
	resp, body = g.get("/api/wiki/a", first)
	expectLimited(t, resp, body, "free", policy, 20)
	resp, body = g.get("/api/papers/1", second)
	expectLimited(t, resp, body, "free", policy, 20)

	resp, body = g.get("/api/wiki/a", carol)
	expectAllowed(t, resp, body, "free", policy, 1, 20)
}

// TestAnonymousBudgetPerIP: anonymous callers are keyed by the client IP
// Caddy computes. Without trusted proxies X-Forwarded-For is ignored (all
// of these come from 127.0.0.1); with them each forwarded client has its
// own budget, and IPv6 clients share one per /64.
func TestAnonymousBudgetPerIP(t *testing.T) {
	policy := `"anonymous";q=3;w=60`
	xff := func(ip string) string { return "X-Forwarded-For: " + ip }

	t.Run("untrusted X-Forwarded-For is ignored", func(t *testing.T) {
		g := newLimitedGateway(t, setup{})
		for i, ip := range []string{"203.0.113.1", "203.0.113.2", "203.0.113.3"} {
			resp, body := g.get("/api/wiki/x", xff(ip))
			expectAllowed(t, resp, body, "anonymous", policy, 2-i, 20*(i+1))
		}
		resp, body := g.get("/api/wiki/x", xff("203.0.113.4"))
		expectLimited(t, resp, body, "anonymous", policy, 20)
	})

	t.Run("trusted proxies", func(t *testing.T) {
		g := newLimitedGateway(t, setup{servers: trustLoopback})
		for i := range 3 {
			resp, body := g.get("/api/wiki/x", xff("203.0.113.1"))
			expectAllowed(t, resp, body, "anonymous", policy, 2-i, 20*(i+1))
		}
		resp, body := g.get("/api/wiki/x", xff("203.0.113.1"))
		expectLimited(t, resp, body, "anonymous", policy, 20)
		resp, body = g.get("/api/wiki/x", xff("203.0.113.2"))
		expectAllowed(t, resp, body, "anonymous", policy, 2, 20)
		// The proxy itself (no X-Forwarded-For) is a client of its own.
		resp, body = g.get("/api/wiki/x")
		expectAllowed(t, resp, body, "anonymous", policy, 2, 20)

		for i, ip := range []string{"2001:db8::1", "2001:db8::2", "2001:db8::ffff:1"} {
			resp, body := g.get("/api/wiki/x", xff(ip))
			expectAllowed(t, resp, body, "anonymous", policy, 2-i, 20*(i+1))
		}
		resp, body = g.get("/api/wiki/x", xff("2001:db8::3"))
		expectLimited(t, resp, body, "anonymous", policy, 20)
		resp, body = g.get("/api/wiki/x", xff("2001:db8:0:1::1"))
		expectAllowed(t, resp, body, "anonymous", policy, 2, 20)
	})
}

// TestExemptRoute: a no_limit rule is neither limited nor charged, and
// its responses carry no RateLimit fields.
func TestExemptRoute(t *testing.T) {
	g := newLimitedGateway(t, setup{})
	for i := range 10 {
		resp, _ := g.get("/healthz")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("health check %d: status %d", i+1, resp.StatusCode)
		}
		if resp.Header.Get("RateLimit") != "" || resp.Header.Get("RateLimit-Policy") != "" {
			t.Fatalf("an exempt route carries RateLimit fields: %v", resp.Header)
		}
	}
	resp, body := g.get("/api/wiki/x")
	expectAllowed(t, resp, body, "anonymous", `"anonymous";q=3;w=60`, 2, 20)
}

// TestNamedBudget: a rule's budget is separate from the tier: spending one
// leaves the other whole. It is kept per user, and per IP for anonymous
// callers.
func TestNamedBudget(t *testing.T) {
	g := newLimitedGateway(t, setup{})
	g.addUser("alice", "tier", "free")
	alice := "Authorization: Bearer " + g.mint("alice", 30, "wiki:read")
	free, search := `"free";q=3;w=60`, `"search";q=2;w=60`

	for i := range 2 {
		resp, body := g.get("/api/wiki/x", alice)
		expectAllowed(t, resp, body, "free", free, 1-i, 20*(i+1))
	}
	resp, body := g.get("/api/wiki/x", alice)
	expectLimited(t, resp, body, "free", free, 20)

	for i := range 2 {
		resp, body := g.get("/api/search/q", alice)
		expectAllowed(t, resp, body, "search", search, 1-i, 30*(i+1))
	}
	resp, body = g.get("/api/search/q", alice)
	expectLimited(t, resp, body, "search", search, 30)

	// An anonymous caller has its own search budget, and spending it
	// leaves its anonymous tier budget whole.
	resp, body = g.get("/api/search/q")
	expectAllowed(t, resp, body, "search", search, 1, 30)
	resp, body = g.get("/api/wiki/x")
	expectAllowed(t, resp, body, "anonymous", `"anonymous";q=3;w=60`, 2, 20)
}

// TestEndpointsDrawOnTier: Gatehouse's own endpoints share the caller's
// tier budget with the upstream routes.
func TestEndpointsDrawOnTier(t *testing.T) {
	g := newLimitedGateway(t, setup{})
	g.addUser("alice", "tier", "free")
	alice := "Authorization: Bearer " + g.mint("alice", 30, "wiki:read")
	policy := `"free";q=3;w=60`

	resp, body := g.get("/api/whoami", alice)
	expectAllowed(t, resp, body, "free", policy, 1, 20)
	resp, body = g.get("/api/wiki/x", alice)
	expectAllowed(t, resp, body, "free", policy, 0, 40)
	resp, body = g.get("/api/whoami", alice)
	expectLimited(t, resp, body, "free", policy, 20)
}

// TestFailedAuthenticationsDrawOnAnonymous: a 401 is charged to the client
// IP's anonymous budget, so token guessing is held to the anonymous rate;
// once it is spent, the IP's anonymous requests are refused too, while a
// valid token from the same IP still works.
func TestFailedAuthenticationsDrawOnAnonymous(t *testing.T) {
	g := newLimitedGateway(t, setup{})
	g.addUser("alice", "tier", "free")
	alice := "Authorization: Bearer " + g.mint("alice", 30, "wiki:read", "papers:read")
	policy := `"anonymous";q=3;w=60`
	guesses := [][]string{
		{"Authorization: Bearer " + forgeValid("qat_")}, // unknown token
		{"Authorization: Bearer garbage"},               // malformed
		nil,                                             // no credential on an authenticated route
	}
	for i, h := range guesses {
		resp, body := g.get("/api/papers/1", h...)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("guess %d: status %d, want 401; %s", i+1, resp.StatusCode, body)
		}
		_, r, _ := rateLimit(t, resp.Header.Get("RateLimit"))
		if r != 2-i || resp.Header.Get("RateLimit-Policy") != policy {
			t.Errorf("guess %d: RateLimit %q, RateLimit-Policy %q", i+1, resp.Header.Get("RateLimit"), resp.Header.Get("RateLimit-Policy"))
		}
	}
	resp, body := g.get("/api/papers/1", guesses[0]...)
	expectLimited(t, resp, body, "anonymous", policy, 20)
	resp, body = g.get("/api/wiki/x")
	expectLimited(t, resp, body, "anonymous", policy, 20)

	resp, body = g.get("/api/papers/1", alice)
	expectAllowed(t, resp, body, "free", `"free";q=3;w=60`, 1, 20)
}

// TestRateLimitedMetric: refusals are counted by policy.
func TestRateLimitedMetric(t *testing.T) {
	g := newLimitedGateway(t, setup{})
	before := g.metric(`gatehouse_rate_limited_total{policy="anonymous"}`)
	for range 5 {
		g.get("/api/wiki/x")
	}
	if got := g.metric(`gatehouse_rate_limited_total{policy="anonymous"}`); got != before+2 {
		t.Errorf("rate_limited_total{anonymous} went from %v to %v, want +2", before, got)
	}
}

// metric reads one sample from the admin API's /metrics.
func (g *gateway) metric(series string) float64 {
	g.t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://localhost:%d/metrics", adminPort))
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				g.t.Fatalf("metric line %q: %v", line, err)
			}
			return f
		}
	}
	return 0
}

// TestReloadKeepsBudgets: `caddy reload` keeps every budget whose policy
// did not change, whether the config is identical (reload --force) or
// changed elsewhere, and starts a changed tier afresh.
func TestReloadKeepsBudgets(t *testing.T) {
	g := newLimitedGateway(t, setup{})
	g.addUser("alice", "tier", "free")
	alice := "Authorization: Bearer " + g.mint("alice", 30, "wiki:read")
	free := `"free";q=3;w=60`
	anon := `"anonymous";q=3;w=60`

	g.get("/api/wiki/x", alice)
	g.get("/api/wiki/x", alice)
	resp, body := g.get("/api/wiki/x", alice)
	expectLimited(t, resp, body, "free", free, 20)
	resp, body = g.get("/api/wiki/x")
	expectAllowed(t, resp, body, "anonymous", anon, 2, 20)

	g.reload(setup{}, true)
	resp, body = g.get("/api/wiki/x", alice)
	expectLimited(t, resp, body, "free", free, 20)

	// Another site: a new rule takes effect, the budgets stay spent.
	if resp, _ := g.get("/open/x"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("before the reload /open/x answered %d, want 401", resp.StatusCode)
	}
	g.reload(setup{site: "rule GET /open/* anonymous\n" + tiersSite}, false)
	resp, body = g.get("/open/x")
	expectAllowed(t, resp, body, "anonymous", anon, 0, 60) // the 401 above was charged too
	resp, body = g.get("/api/wiki/x", alice)
	expectLimited(t, resp, body, "free", free, 20)

	// free changes (3/1m burst 2 -> 4/1m burst 2): alice starts afresh;
	// anonymous did not change and stays spent.
	g.reload(setup{global: strings.Replace(tiersGlobal, "tier free 3/1m burst 2", "tier free 4/1m burst 2", 1)}, false)
	resp, body = g.get("/api/wiki/x", alice)
	expectAllowed(t, resp, body, "free", `"free";q=4;w=60`, 1, 15)
	resp, body = g.get("/api/wiki/x")
	expectLimited(t, resp, body, "anonymous", anon, 20)
}

// TestNoAnonymousTier: tiers without one named anonymous leave anonymous
// requests (and failed authentications) unlimited, while users are still
// held to their tier; without tiers nothing is limited.
func TestNoAnonymousTier(t *testing.T) {
	g := newLimitedGateway(t, setup{global: defaultGlobal + "\ntier free 3/1m burst 2\ndefault_tier free\nbudget search 2/1m"})
	g.addUser("alice")
	alice := "Authorization: Bearer " + g.mint("alice", 30, "wiki:read")
	for range 5 {
		resp, _ := g.get("/api/wiki/x")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("RateLimit") != "" {
			t.Fatalf("anonymous request: status %d, RateLimit %q", resp.StatusCode, resp.Header.Get("RateLimit"))
		}
		if resp, _ := g.get("/other", "Authorization: Bearer garbage"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failed authentication: status %d, want 401", resp.StatusCode)
		}
	}
	g.get("/api/wiki/x", alice)
	g.get("/api/wiki/x", alice)
	resp, body := g.get("/api/wiki/x", alice)
	expectLimited(t, resp, body, "free", `"free";q=3;w=60`, 20)
	warned := false
	for _, line := range g.logLines() {
		warned = warned || strings.Contains(line, `"level":"warn"`) && strings.Contains(line, "no tier is named anonymous")
	}
	if !warned {
		t.Error("no warning that anonymous requests are not limited")
	}

	g = newLimitedGateway(t, setup{global: defaultGlobal + "\nbudget search 2/1m"})
	g.addUser("alice")
	alice = "Authorization: Bearer " + g.mint("alice", 30, "wiki:read")
	for range 5 {
		for _, h := range [][]string{nil, {alice}} {
			resp, _ := g.get("/api/wiki/x", h...)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("RateLimit") != "" {
				t.Fatalf("without tiers: status %d, RateLimit %q", resp.StatusCode, resp.Header.Get("RateLimit"))
			}
		}
	}
}

// TestSessionEndpointsAreRateLimited: POST /api/session and /api/refresh
// draw on the caller's budget like every other endpoint (anonymous: the
// client IP's), so neither is a way around the limits; over it they
// answer 429 with Retry-After before any password is hashed or refresh
// token looked up.
func TestSessionEndpointsAreRateLimited(t *testing.T) {
	g := newLimitedGateway(t, setup{})
	g.addUserWithPassword("alice", "alice password 1")
	form := "Content-Type: application/x-www-form-urlencoded"
	login := func() (*http.Response, []byte) {
		return g.do("POST", api.PathSession, strings.NewReader("login=alice&password=wrong+password"), form)
	}
	refresh := func() (*http.Response, []byte) {
		return g.do("POST", api.PathRefresh, strings.NewReader("refresh_token=ghr_notarealtoken"), form)
	}
	// (A refused login costs more than one request: the failed
	// authentication is charged too. Refused refreshes cost one each.)
	for i, call := range []func() (*http.Response, []byte){refresh, refresh, refresh} {
		if resp, body := call(); resp.StatusCode == http.StatusTooManyRequests {
			t.Fatalf("call %d limited within the budget: %s", i+1, body)
		}
	}
	failed := countOf(g.auditActions("alice"), "login.failed")
	anon := `"anonymous";q=3;w=60`
	resp, body := refresh()
	expectLimited(t, resp, body, "anonymous", anon, 20)
	resp, body = login()
	expectLimited(t, resp, body, "anonymous", anon, 20)
	if n := countOf(g.auditActions("alice"), "login.failed"); n != failed {
		t.Errorf("a limited login was still checked: %d login.failed, want %d", n, failed)
	}
}
