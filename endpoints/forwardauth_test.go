package endpoints

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/decision"
	"github.com/gatehouse/gatehouse/gate"
	"github.com/gatehouse/gatehouse/service"
)

type trustAll bool

func (t trustAll) FromTrustedProxy(*http.Request) bool { return bool(t) }

// forwardSite is a Site in forward-auth mode over the given rules.
func forwardSite(t *testing.T, trusted bool, rules []config.Rule) (*Site, *service.Service) {
	t.Helper()
	policy, err := service.CompilePolicy(config.Global{TokenPrefix: "qat_", Scopes: []string{"read", "write", "admin"}})
	if err != nil {
		t.Fatal(err)
	}
	store, err := authstore.Open(filepath.Join(t.TempDir(), "g.db"), authstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	svc := &service.Service{Store: store, Policy: policy}
	compiled, err := policy.CompileRules(rules, &config.Requirement{Access: config.AccessDeny})
	if err != nil {
		t.Fatal(err)
	}
	headers, _ := gate.NewUpstreamHeaders([]string{"login", "scopes"}, map[string]string{"login": "X-Remote-User"})
	site, err := New(Config{Policy: policy, Gate: gate.New(gate.Config{Policy: policy, Store: store, Facts: testFacts{}}), Facts: testFacts{},
		Service: func() *service.Service { return svc },
		ForwardAuth: &ForwardAuth{Rules: compiled, Trust: trustAll(trusted), Headers: headers,
			Assert: func(orig *http.Request, id *decision.Identity) (string, error) {
				return "assertion-for-" + orig.Method + "-" + id.Credential, nil
			}}})
	if err != nil {
		t.Fatal(err)
	}
	return site, svc
}

// TestForwardAuthEndpoint: the original request is judged by the site's
// rules and answered with the site's headers, or refused as inline.
func TestForwardAuthEndpoint(t *testing.T) {
	t.Parallel()
	rules := []config.Rule{
		{Methods: []string{"GET"}, Path: "/v1/knowledge/*", Require: config.Requirement{Scopes: []string{"read"}}},
		{Methods: []string{"DELETE"}, Path: "/v1/knowledge/*", Require: config.Requirement{Any: []config.Requirement{{Scopes: []string{"admin"}}, {Scopes: []string{"write"}}}}},
	}
	site, svc := forwardSite(t, true, rules)
	u, err := svc.Store.CreateUser(authstore.NewUser{Login: "alice"}, authstore.AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := svc.MintPAT(u, service.PATRequest{Name: "t", Scopes: []string{"read"}, ExpiresDays: 7, Via: authstore.ViaAdmin}, authstore.AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name           string
		method, uri    string
		tok            string
		status         int
		user, asserted string
	}{
		{"allowed", "GET", "/v1/knowledge/k1", tok, 200, "alice", "assertion-for-GET-pat"},
		{"alternatives refused", "DELETE", "/v1/knowledge/k1", tok, 403, "", ""},
		{"no credential", "GET", "/v1/knowledge/k1", "", 401, "", ""},
		{"no rule", "GET", "/elsewhere", tok, 403, "", ""},
		{"no original", "", "", tok, 400, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRequest("GET", "/gatehouse/auth", "", "")
			if tc.method != "" {
				r.Header.Set("X-Forwarded-Method", tc.method)
				r.Header.Set("X-Forwarded-Uri", tc.uri)
			}
			if tc.tok != "" {
				withBearer(r, tc.tok)
			}
			w := httptestServe(site, r)
			if w.Code != tc.status {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
			if got := w.Header().Get("X-Remote-User"); got != tc.user {
				t.Errorf("X-Remote-User %q, want %q", got, tc.user)
			}
			if got := w.Header().Get("Gatehouse-Assertion"); got != tc.asserted {
				t.Errorf("assertion %q, want %q", got, tc.asserted)
			}
			if tc.status == 200 && (w.Header().Get("Gatehouse-Scopes") != "read" || w.Header().Get("Gatehouse-User") != "") {
				t.Errorf("headers beyond the site's choice: %v", w.Header())
			}
		})
	}

	untrusted, _ := forwardSite(t, false, rules)
	r := withBearer(newRequest("GET", "/gatehouse/auth", "", ""), tok)
	r.Header.Set("X-Forwarded-Method", "GET")
	r.Header.Set("X-Forwarded-Uri", "/v1/knowledge/k1")
	if w := httptestServe(untrusted, r); w.Code != 403 || w.Header().Get("X-Remote-User") != "" {
		t.Errorf("untrusted: %d %v", w.Code, w.Header())
	}
}

func httptestServe(s *Site, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

// TestForwardAuthAssertionFails: when the assertion cannot be signed the
// answer is a 500 that carries no identity: Caddy's forward_auth and
// Traefik hand a non-2xx answer, headers and all, to the client.
func TestForwardAuthAssertionFails(t *testing.T) {
	t.Parallel()
	rules := []config.Rule{{Methods: []string{"GET"}, Path: "/v1/knowledge/*", Require: config.Requirement{Scopes: []string{"read"}}}}
	site, svc := forwardSite(t, true, rules)
	site.forward.Assert = func(*http.Request, *decision.Identity) (string, error) { return "", errors.New("no key") }
	u, err := svc.Store.CreateUser(authstore.NewUser{Login: "alice"}, authstore.AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := svc.MintPAT(u, service.PATRequest{Name: "t", Scopes: []string{"read"}, ExpiresDays: 7, Via: authstore.ViaAdmin}, authstore.AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	r := withBearer(newRequest("GET", "/gatehouse/auth", "", ""), tok)
	r.Header.Set("X-Forwarded-Method", "GET")
	r.Header.Set("X-Forwarded-Uri", "/v1/knowledge/k1")
	w := httptestServe(site, r)
	if w.Code != http.StatusInternalServerError || w.Header().Get("X-Remote-User") != "" || w.Header().Get("Gatehouse-Scopes") != "" {
		t.Errorf("%d %v", w.Code, w.Header())
	}
}
