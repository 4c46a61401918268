package gate

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/decision"
)

// admitFixture is a gate with a user, a PAT holding papers:read and a
// browser session of that user.
type admitFixture struct {
	g     *Gate
	s     *authstore.Store
	user  *authstore.User
	pat   string
	sess  *authstore.Session
	rules *config.Rules
}

func newAdmitFixture(t *testing.T, budgets Budgets) *admitFixture {
	t.Helper()
	s := testStore(t)
	g := New(Config{Policy: testPolicy(t, config.Global{TokenPrefix: "qat_", Scopes: []string{"papers:read", "papers:write"}}),
		Store: s, Facts: directFacts{}, Budgets: budgets})
	u, err := s.CreateUser(authstore.NewUser{Login: "alice", Tier: "free"}, authstore.AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := s.CreateSession(authstore.NewSession{UserID: u.ID, Kind: authstore.SessionBrowser, TTL: 24 * time.Hour}, authstore.AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := g.policy.CompileRules([]config.Rule{
		{Path: "/open/*", Require: config.Requirement{Access: config.AccessAnonymous}},
		{Path: "/write/*", Require: config.Requirement{Scopes: []string{"papers:write"}}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &admitFixture{g: g, s: s, user: u, pat: mintPAT(t, g, s, u, []string{"papers:read"}), sess: sess, rules: rules}
}

// admit runs Admit on the site route r matches.
func (f *admitFixture) admit(w http.ResponseWriter, r *http.Request) (*Identity, string, int) {
	rule, params := f.rules.Match(r.Method, r.URL.Path)
	id, d := f.g.Admit(w, r, Route{Rule: rule, Params: &params, Limit: rule.Limit})
	if d != nil {
		return id, d.Reason, d.Status
	}
	return id, "", http.StatusOK
}

func (f *admitFixture) cookie(t *testing.T, iat, exp time.Time) string {
	t.Helper()
	jwt, err := f.s.IssueSessionJWT(f.sess, iat, exp)
	if err != nil {
		t.Fatal(err)
	}
	return SessionCookie + "=" + jwt
}

func TestAdmitRoutes(t *testing.T) {
	t.Parallel()
	f := newAdmitFixture(t, Budgets{})
	now := time.Now()
	for _, tc := range []struct {
		name, method, path string
		header             http.Header
		status             int
		reason, cred       string
	}{
		{"no credential, default rule", "GET", "/x", nil, 401, "no_credential", ""},
		{"no credential, open route", "GET", "/open/x", nil, 200, "", decision.CredentialAnonymous},
		{"PAT", "GET", "/x", http.Header{"Authorization": {"Bearer " + f.pat}}, 200, "", decision.CredentialPAT},
		{"bad PAT on an open route is not anonymous", "GET", "/open/x", http.Header{"Authorization": {"Bearer qat_nope"}}, 401, "malformed_token", ""},
		{"stale cookie on an open route is not anonymous", "GET", "/open/x", http.Header{"Cookie": {SessionCookie + "=a.b.c"}}, 401, "malformed_token", ""},
		{"two Authorization headers", "GET", "/x", http.Header{"Authorization": {"Bearer a", "Bearer b"}}, 400, "malformed_authorization", ""},
		{"missing scope", "GET", "/write/x", http.Header{"Authorization": {"Bearer " + f.pat}}, 403, "insufficient_scope", decision.CredentialPAT},
		{"session cookie", "GET", "/x", http.Header{"Cookie": {f.cookie(t, now, now.Add(time.Hour))}}, 200, "", decision.CredentialSession},
		{"cross-origin write with a cookie", "POST", "/x", http.Header{"Cookie": {f.cookie(t, now, now.Add(time.Hour))}, "Sec-Fetch-Site": {"cross-site"}}, 403, "cross_origin", decision.CredentialSession},
		{"cross-origin write with a Bearer token", "POST", "/x", http.Header{"Authorization": {"Bearer " + f.pat}, "Sec-Fetch-Site": {"cross-site"}}, 200, "", decision.CredentialPAT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(tc.method, tc.path, nil)
			for k, v := range tc.header {
				r.Header[k] = v
			}
			w := httptest.NewRecorder()
			id, reason, status := f.admit(w, r)
			if status != tc.status || reason != tc.reason {
				t.Fatalf("%d %s, want %d %s", status, reason, tc.status, tc.reason)
			}
			switch {
			case tc.cred == "" && id != nil:
				t.Errorf("identity %+v, want none", id)
			case tc.cred != "" && (id == nil || id.Credential != tc.cred):
				t.Errorf("identity %+v, want credential %s", id, tc.cred)
			}
			// A PAT's expiry is announced, allowed or not.
			if got := w.Header().Get(api.HeaderTokenExpiration); (tc.cred == decision.CredentialPAT) != (got != "") {
				t.Errorf("%s: %q", api.HeaderTokenExpiration, got)
			}
		})
	}
}

// TestAdmitLenientEndpoint: an open endpoint serves as anonymous a request
// whose cookie failed or that sent another scheme, but never one whose
// Bearer token failed.
func TestAdmitLenientEndpoint(t *testing.T) {
	t.Parallel()
	f := newAdmitFixture(t, Budgets{})
	open := Route{Rule: config.AccessRule(config.AccessAnonymous), Endpoint: true, Lenient: true}
	browser := Route{Rule: config.AccessRule(config.AccessSession), Endpoint: true}
	for _, tc := range []struct {
		name   string
		rt     Route
		header http.Header
		status int
		reason string
	}{
		{"stale cookie", open, http.Header{"Cookie": {SessionCookie + "=a.b.c"}}, 200, ""},
		{"HTTP Basic", open, http.Header{"Authorization": {"Basic YTpi"}}, 200, ""},
		{"bad Bearer", open, http.Header{"Authorization": {"Bearer qat_nope"}}, 401, "malformed_token"},
		{"stale cookie, strict endpoint", browser, http.Header{"Cookie": {SessionCookie + "=a.b.c"}}, 401, "malformed_token"},
		{"PAT on a browser endpoint", browser, http.Header{"Authorization": {"Bearer " + f.pat}}, 403, "session_required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/login", nil)
			r.Header = tc.header
			id, d := f.g.Admit(httptest.NewRecorder(), r, tc.rt)
			switch {
			case tc.status == 200 && (d != nil || id != decision.Anonymous):
				t.Fatalf("refused %+v / identity %+v, want anonymous", d, id)
			case tc.status != 200 && (d == nil || d.Status != tc.status || d.Reason != tc.reason):
				t.Fatalf("denial %+v, want %d %s", d, tc.status, tc.reason)
			}
			if d != nil && tc.reason == "session_required" && !strings.Contains(d.Message, "endpoint") {
				t.Errorf("message %q does not name an endpoint", d.Message)
			}
		})
	}
}

// TestAdmitLimitsAndRefuse: an allowed request draws on its budget, and a
// failed authentication, answered through Refuse, on the client IP's
// anonymous budget, which turns it into a 429 once spent.
func TestAdmitLimitsAndRefuse(t *testing.T) {
	t.Parallel()
	anon := testBudget(t, config.Tier{Name: "anonymous", Rate: "2/1m"})
	free := testBudget(t, config.Tier{Name: "free", Rate: "1/1m"})
	f := newAdmitFixture(t, Budgets{Tiers: map[string]*Budget{"anonymous": anon, "free": free}, Anonymous: anon})

	pat := func() *http.Request {
		r := httptest.NewRequest("GET", "/x", nil)
		r.Header.Set("Authorization", "Bearer "+f.pat)
		return r
	}
	w := httptest.NewRecorder()
	if _, reason, status := f.admit(w, pat()); status != 200 || w.Header().Get("RateLimit-Policy") != `"free";q=1;w=60` {
		t.Fatalf("first PAT request: %d %s %v", status, reason, w.Header())
	}
	if _, reason, status := f.admit(httptest.NewRecorder(), pat()); status != 429 || reason != "rate_limited" {
		t.Fatalf("second PAT request: %d %s, want 429", status, reason)
	}

	bad := httptest.NewRequest("GET", "/x", nil)
	bad.Header.Set("Authorization", "Bearer qat_nope")
	for i, want := range []int{401, 401, 429} {
		w := httptest.NewRecorder()
		_, d := f.g.Admit(w, bad, Route{Rule: config.AccessRule(config.AccessAuthenticated)})
		if d == nil {
			t.Fatal("a bad token was admitted")
		}
		if d = f.g.Refuse(w, bad, d); d.Status != want {
			t.Errorf("failure %d: %d %s, want %d", i+1, d.Status, d.Reason, want)
		}
	}
	// A refusal that is not a failed authentication costs nothing.
	if d := f.g.Refuse(httptest.NewRecorder(), bad, f.g.refusalOf(&decision.Decision{Outcome: decision.Denied}, config.AccessRule(config.AccessDeny), false)); d.Status != 403 {
		t.Errorf("a 403 became %d", d.Status)
	}
}

// TestAdmitRenewsCookie: a session cookie past half its life is re-issued,
// never past the session's expiry; a younger one is not.
func TestAdmitRenewsCookie(t *testing.T) {
	t.Parallel()
	f := newAdmitFixture(t, Budgets{})
	life := f.g.CookieLife()
	now := time.Now()
	for _, tc := range []struct {
		name  string
		iat   time.Time
		renew bool
	}{
		{"young", now.Add(-life / 4), false},
		{"past half-life", now.Add(-life * 3 / 4), true},
	} {
		r := httptest.NewRequest("GET", "/x", nil)
		r.Header.Set("Cookie", f.cookie(t, tc.iat, tc.iat.Add(life)))
		w := httptest.NewRecorder()
		if _, reason, status := f.admit(w, r); status != 200 {
			t.Fatalf("%s: %d %s", tc.name, status, reason)
		}
		set := w.Header().Get("Set-Cookie")
		if tc.renew != strings.HasPrefix(set, SessionCookie+"=") {
			t.Errorf("%s: Set-Cookie %q", tc.name, set)
		}
		if tc.renew && (!strings.Contains(set, "HttpOnly") || !strings.Contains(set, "SameSite=Lax") || strings.Contains(set, "Secure")) {
			t.Errorf("%s: cookie attributes %q", tc.name, set)
		}
	}
}

func TestSetUpstreamHeaders(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	if s := SetUpstreamHeaders(h, decision.Anonymous); s != "" || h.Get(api.HeaderCredential) != "anonymous" || h.Get(api.HeaderUserID) != "" {
		t.Errorf("anonymous: %q %v", s, h)
	}
	h = http.Header{}
	id := &Identity{Credential: decision.CredentialPAT, Tier: "pro", Scopes: []string{"a:b", "c:d"},
		User: &authstore.User{ID: "usr_1", Login: "alice"}, PAT: &authstore.PAT{ID: "tok_1"}, Resource: "project:atlas", Role: "edit"}
	s := SetUpstreamHeaders(h, id)
	want := map[string]string{api.HeaderCredential: "pat", api.HeaderTier: "pro", api.HeaderUserID: "usr_1", api.HeaderUser: "alice",
		api.HeaderScopes: "a:b c:d", api.HeaderTokenID: "tok_1", api.HeaderResource: "project:atlas", api.HeaderRole: "edit"}
	if s != "a:b c:d" || len(h) != len(want) {
		t.Errorf("scopes %q, headers %v", s, h)
	}
	for k, v := range want {
		if h.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, h.Get(k), v)
		}
	}
}

// BenchmarkAdmit is Admit for a PAT on a scope rule with a warm cache and
// no budgets: what the gate adds to a proxied request.
func BenchmarkAdmit(b *testing.B) {
	s := testStore(b)
	g := New(Config{Policy: testPolicy(b, config.Global{Scopes: []string{"papers:read"}}), Store: s, Facts: directFacts{}})
	u, err := s.CreateUser(authstore.NewUser{Login: "bench", Tier: "free"}, authstore.AdminActor)
	if err != nil {
		b.Fatal(err)
	}
	tok := mintPAT(b, g, s, u, []string{"papers:read"})
	rules, err := g.policy.CompileRules([]config.Rule{{Path: "/api/papers/*", Require: config.Requirement{Scopes: []string{"papers:read"}}}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/api/papers/42", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	w := headerWriter(http.Header{})
	b.ReportAllocs()
	for b.Loop() {
		rule, params := rules.Match(r.Method, r.URL.Path)
		if _, d := g.Admit(w, r, Route{Rule: rule, Params: &params, Limit: rule.Limit}); d != nil {
			b.Fatal(d.Message)
		}
	}
}

// TestThrottledStaleCookieIsCleared: when the anonymous budget turns a
// stale cookie's 401 into a 429, the 429 still clears the cookie, or the
// browser would keep sending it and stay throttled.
func TestThrottledStaleCookieIsCleared(t *testing.T) {
	t.Parallel()
	anon := testBudget(t, config.Tier{Name: "anonymous", Rate: "1/1m"})
	f := newAdmitFixture(t, Budgets{Tiers: map[string]*Budget{"anonymous": anon}, Anonymous: anon})
	stale := httptest.NewRequest("GET", "/x", nil)
	stale.AddCookie(&http.Cookie{Name: SessionCookie, Value: "a.b.c"})
	for i, want := range []int{401, 429} {
		w := httptest.NewRecorder()
		_, d := f.g.Admit(w, stale, Route{Rule: config.AccessRule(config.AccessAuthenticated)})
		if d == nil {
			t.Fatal("a stale cookie was admitted")
		}
		d = f.g.Refuse(w, stale, d)
		if d.Status != want || len(d.Headers["Set-Cookie"]) == 0 || !strings.Contains(d.Headers.Get("Set-Cookie"), "Max-Age=0") {
			t.Errorf("refusal %d: %d, Set-Cookie %q", i+1, d.Status, d.Headers["Set-Cookie"])
		}
	}
}
