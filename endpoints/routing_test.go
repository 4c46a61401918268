package endpoints

import (
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/gate"
	"github.com/gatehouse/gatehouse/service"
)

// TestRouting: ServeHTTP finds the endpoint by its clean, case-folded
// path, answers 404 for no endpoint and 405 with Allow for a method the
// endpoint does not take, always as a JSON error.
func TestRouting(t *testing.T) {
	t.Parallel()
	s := defaultTestSite(t)
	for _, tc := range []struct {
		method, path string
		status       int
		code         string // JSON error; "" for a page or redirect
		allow        string
	}{
		{"GET", "/nope", 404, "not_found", ""},
		{"GET", "/", 404, "not_found", ""},
		{"GET", "/login/", 404, "not_found", ""}, // a trailing slash is another path
		{"GET", "/api/pat/", 404, "not_found", ""},
		{"GET", "/loginx", 404, "not_found", ""},
		{"GET", "/login", 200, "", ""},
		{"HEAD", "/login", 200, "", ""},
		{"GET", "/LOGIN", 200, "", ""},
		{"GET", "/x/../login", 200, "", ""},
		{"GET", "//login", 200, "", ""},
		{"GET", "/./setup", 404, "", ""}, // the setup page, which says setup is done
		{"PUT", "/login", 405, "method_not_allowed", "GET, HEAD, POST"},
		{"GET", "/logout", 405, "method_not_allowed", "POST"},
		{"DELETE", "/api/pat", 405, "method_not_allowed", "GET, HEAD, POST"},
		{"GET", "/api/pat/tok_x", 405, "method_not_allowed", "DELETE"},
		{"POST", "/api/whoami", 405, "method_not_allowed", "GET, HEAD"},
		{"GET", "/api/oauth/device/token", 405, "method_not_allowed", "POST"},
		{"OPTIONS", "/v1/auth/register", 405, "method_not_allowed", "POST"},
		{"GET", "/api/whoami", 401, "unauthorized", ""},
		{"GET", "/API//WHOAMI", 401, "unauthorized", ""},
		{"DELETE", "/api/pat/tok_x", 401, "unauthorized", ""},
		{"GET", "/gatehouse/auth", 404, "not_found", ""}, // forward-auth is off on this site
		{"DELETE", "/gatehouse/auth", 404, "not_found", ""},
		{"GET", "/.well-known/gatehouse/jwks.json", 200, "", ""},
		{"POST", "/.well-known/gatehouse/jwks.json", 405, "method_not_allowed", "GET, HEAD"},
		{"GET", "/api/credentials/revoke", 405, "method_not_allowed", "POST"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			t.Parallel()
			r := newRequest(tc.method, "", "", "")
			r.URL.Path = tc.path // as sent, not as httptest would clean it
			w := s.serve(r)
			if w.Code != tc.status {
				t.Fatalf("%d %s, want %d", w.Code, truncate(w.Body.String(), 300), tc.status)
			}
			if got := w.Header().Get("Allow"); got != tc.allow {
				t.Errorf("Allow %q, want %q", got, tc.allow)
			}
			if tc.code != "" {
				e := wantError(t, w, tc.status, tc.code, "")
				if tc.status == 405 && !strings.Contains(e.Message, "does not accept "+tc.method) {
					t.Errorf("405 message %q", e.Message)
				}
			}
			if tc.status == 401 && !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), `Bearer realm="gatehouse"`) {
				t.Errorf("401 without its challenge: %q", w.Header().Get("WWW-Authenticate"))
			}
			if want := tc.status != 404 || tc.code == ""; s.Serves(r) != want {
				t.Errorf("Serves = %v, want %v", !want, want)
			}
		})
	}
}

// TestMovedPaths: Config.Paths moves an endpoint: it is served at its
// new path only, and pages and redirects name the new path.
func TestMovedPaths(t *testing.T) {
	t.Parallel()
	s := newTestSite(t, config.Global{TokenPrefix: "qat_", Scopes: []string{"wiki:read"}},
		map[string]string{"login": "/signin", "pat": "/tokens", "pat_api_token": "/api/tokens/", "whoami": "/Me"})
	for name, want := range map[string]string{"login": "/signin", "pat": "/tokens", "pat_api_token": "/api/tokens/", "whoami": "/Me", "logout": "/logout"} {
		if got := s.Path(name); got != want {
			t.Errorf("Path(%s) = %q, want %q", name, got, want)
		}
	}
	if s.Path("nope") != "" {
		t.Errorf("Path of an unknown endpoint: %q", s.Path("nope"))
	}
	s.mustServe(t, 404, newRequest("GET", "/login", "", ""))
	wantPage(t, s.mustServe(t, 200, newRequest("GET", "/signin", "", "")), 200, `action="/signin"`)
	s.mustServe(t, 401, newRequest("GET", "/me", "", ""))
	s.mustServe(t, 404, newRequest("GET", "/api/whoami", "", ""))
	s.mustServe(t, 401, newRequest("DELETE", "/api/tokens/tok_1", "", ""))
	s.mustServe(t, 404, newRequest("DELETE", "/api/pat/tok_1", "", ""))
	// A browser without a session goes to the moved login page, and comes
	// back to the moved PAT page.
	wantRedirect(t, s.serve(newRequest("GET", "/tokens", "", "")), "/signin?next=%2Ftokens")
	wantRedirect(t, s.serve(newRequest("GET", "/device?user_code=ABCD-EFGH", "", "")), "/signin?next=%2Fdevice%3Fuser_code%3DABCD-EFGH")
	if got := s.safeNext(""); got != "/tokens" {
		t.Errorf("safeNext falls back to %q, want the moved PAT page", got)
	}
	if got := s.safeNext("/signin?x"); got != "/tokens" {
		t.Errorf("safeNext lets the moved login page be next: %q", got)
	}
}

// TestNewRefusesBadPaths: New refuses unknown endpoint names, paths that
// are not clean and absolute, and two endpoints on one path (case does
// not tell paths apart, as routing ignores it).
func TestNewRefusesBadPaths(t *testing.T) {
	t.Parallel()
	policy, err := service.CompilePolicy(config.Global{TokenPrefix: "qat_"})
	if err != nil {
		t.Fatal(err)
	}
	g := gate.New(gate.Config{Policy: policy, Facts: testFacts{}})
	for _, tc := range []struct {
		paths map[string]string
		want  string // substring of the error; "" for none
	}{
		{nil, ""},
		{map[string]string{"login": "/signin", "logout": "/signout"}, ""},
		{map[string]string{"logn": "/signin"}, `unknown endpoint "logn" (known: account, account_sessions, console, credentials_revoke, device,`},
		{map[string]string{"login": "signin"}, `login path "signin" must be a clean absolute path`},
		{map[string]string{"login": ""}, `login path "" must be a clean absolute path`},
		{map[string]string{"login": "/a/../signin"}, "clean absolute path"},
		{map[string]string{"login": "/a//signin"}, "clean absolute path"},
		{map[string]string{"login": "/./signin"}, "clean absolute path"},
		{map[string]string{"login": "/pat"}, "pat and login both use /pat"},
		{map[string]string{"login": "/PAT"}, "both use"},
		{map[string]string{"login": "/x", "logout": "/X"}, "both use"},
		{map[string]string{"whoami": "/api/pat"}, "both use"},
	} {
		site, err := New(Config{Paths: tc.paths, Policy: policy, Gate: g, Facts: testFacts{}})
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("New(%v): %v", tc.paths, err)
		case tc.want == "" && site == nil:
			t.Errorf("New(%v): no site", tc.paths)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("New(%v) = %v, want an error with %q", tc.paths, err, tc.want)
		case tc.want != "" && site != nil:
			t.Errorf("New(%v) returned a site with its error", tc.paths)
		}
	}
}

func TestNamesAndKnown(t *testing.T) {
	t.Parallel()
	names := Names()
	if !slices.IsSorted(names) || len(names) != len(endpointTable()) {
		t.Errorf("Names() = %v: want every endpoint, sorted", names)
	}
	for _, n := range names {
		if !Known(n) {
			t.Errorf("Known(%q) = false", n)
		}
	}
	if Known("nope") || Known("") {
		t.Error("Known accepts a name no endpoint has")
	}
}

// TestMovedPrefixPath: a prefix endpoint (DELETE /api/pat/{id}) moved to
// a path without its trailing slash would serve /api/tokens/tok_1 as the
// id "/tok_1" (never found) and /api/tokensfoo as the id "foo": New
// refuses it.
func TestMovedPrefixPath(t *testing.T) {
	t.Parallel()
	policy, err := service.CompilePolicy(config.Global{TokenPrefix: "qat_"})
	if err != nil {
		t.Fatal(err)
	}
	g := gate.New(gate.Config{Policy: policy, Facts: testFacts{}})
	_, err = New(Config{Paths: map[string]string{"pat_api_token": "/api/tokens"}, Policy: policy, Gate: g, Facts: testFacts{}})
	if err == nil || !strings.Contains(err.Error(), `pat_api_token path "/api/tokens" must end in /`) {
		t.Errorf("New with a prefix path without its slash: %v", err)
	}
	// Moved with its slash, the id is what follows it.
	s := newTestSite(t, config.Global{TokenPrefix: "qat_", Scopes: []string{"wiki:read"}}, map[string]string{"pat_api_token": "/api/tokens/"})
	alice := s.user(t, "alice", testPassword, nil)
	_, p := s.pat(t, alice, "wiki:read")
	c := s.signIn(t, "alice")
	s.mustServe(t, 404, withCookie(newRequest("DELETE", "/api/tokensx", "", ""), c))
	if got := decodeAs[api.TokenInfo](t, s.mustServe(t, 200, withCookie(newRequest("DELETE", "/api/tokens/"+p.ID, "", ""), c))); got.Status != "revoked" {
		t.Errorf("revoked at the moved path: %+v", got)
	}
}

// TestRefusalsCounted: each refusal ServeHTTP answers is counted once,
// with its reason.
func TestRefusalsCounted(t *testing.T) {
	t.Parallel()
	s := defaultTestSite(t)
	m := s.withMetrics()
	s.serve(newRequest("GET", "/nope", "", ""))
	s.serve(newRequest("PUT", "/login", "", ""))
	s.serve(newRequest("GET", "/api/whoami", "", ""))
	s.serve(withBearer(newRequest("GET", "/api/whoami", "", ""), "qat_"+strings.Repeat("a", 36)))
	s.serve(crossSite(postForm("/login", nil)))
	if got, want := m.denied(), "not_found method_not_allowed no_credential malformed_token cross_origin"; got != want {
		t.Errorf("denials %q, want %q", got, want)
	}
}
