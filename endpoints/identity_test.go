package endpoints

import (
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/gate"
	"github.com/gatehouse/gatehouse/idp"
	"github.com/gatehouse/gatehouse/service"
)

// newIdPSite is a Site with a GitHub provider (whose start contacts
// nothing) and an OIDC provider that is never reached in these tests.
func newIdPSite(t *testing.T, localLogin bool, paths map[string]string) (*testSite, *recordingMetrics) {
	t.Helper()
	g := config.Global{
		Scopes: []string{"wiki:read"}, LocalLogin: &localLogin,
		IdentityProviders: []config.IdentityProvider{
			{Name: "github", Type: config.ProviderGitHub, ClientID: "Iv1.abc", ClientSecret: "gh-secret",
				WebURL: "https://github.example", APIURL: "https://github.example/api/v3"},
			{Name: "corp", Type: config.ProviderOIDC, Label: "Corp SSO", Issuer: "https://id.invalid", ClientID: "c", ClientSecret: "s"},
		},
	}
	policy, err := service.CompilePolicy(g)
	if err != nil {
		t.Fatal(err)
	}
	store, err := authstore.Open(filepath.Join(t.TempDir(), "gatehouse.db"), authstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	var providers []*idp.Provider
	for _, c := range policy.IdentityProviders {
		p, err := idp.New(c, idp.Options{})
		if err != nil {
			t.Fatal(err)
		}
		providers = append(providers, p)
	}
	svc := &service.Service{Store: store, Policy: policy, Logins: service.NewBackoff(), Devices: service.NewBackoff(), Offer: new(service.SetupOffer)}
	m := &recordingMetrics{}
	site, err := New(Config{Paths: paths, Policy: policy, Gate: gate.New(gate.Config{Policy: policy, Store: store, Facts: testFacts{}}),
		Facts: testFacts{}, Service: func() *service.Service { return svc }, Metrics: m, IdentityProviders: providers})
	if err != nil {
		t.Fatal(err)
	}
	return &testSite{Site: site, store: store}, m
}

func TestLoginPageButtons(t *testing.T) {
	t.Parallel()
	s, _ := newIdPSite(t, true, nil)
	body := wantPage(t, s.serve(newRequest("GET", "/login?next=%2Fdevice%3Fuser_code%3DWDJB-MJHT", "", "")), http.StatusOK,
		"Sign in with GitHub", "Sign in with Corp SSO", `id="password"`)
	if !strings.Contains(body, `href="/login/github?next=%2Fdevice%3Fuser_code%3DWDJB-MJHT"`) {
		t.Errorf("the button does not carry next: %s", body)
	}
	// A next that the form would not follow is not carried either.
	body = s.serve(newRequest("GET", "/login?next=https://evil.example/", "", "")).Body.String()
	if !strings.Contains(body, `href="/login/github"`) || strings.Contains(body, `href="/login/github?next`) {
		t.Error("a foreign next reached the buttons")
	}
	zh := wantPage(t, s.serve(newRequest("GET", "/login?lang=zh", "", "")), http.StatusOK, "使用 GitHub 登录")
	if strings.Contains(zh, "Sign in with") {
		t.Error("English on the Chinese page")
	}
}

func TestLocalLoginOffPage(t *testing.T) {
	t.Parallel()
	s, _ := newIdPSite(t, false, nil)
	s.user(t, "olga", "olga password 1", nil)
	body := wantPage(t, s.serve(newRequest("GET", "/login", "", "")), http.StatusOK, "Sign in with GitHub")
	if strings.Contains(body, `id="password"`) || strings.Contains(body, `id="providers-or"`) {
		t.Error("local_login off still shows the password form")
	}
	w := s.serve(postForm("/login", url.Values{"login": {"olga"}, "password": {"olga password 1"}}))
	wantPage(t, w, http.StatusForbidden, "Password sign-in is turned off here")
	if sessionCookie(w) != nil {
		t.Error("a password signed in with local_login off")
	}
}

func TestLoginProviderRoutes(t *testing.T) {
	t.Parallel()
	s, m := newIdPSite(t, true, map[string]string{"login_provider": "/signin/"})
	// Start: to GitHub, with PKCE, the flow cookie on the moved callback.
	w := s.serve(newRequest("GET", "/signin/github?next=/pat", "", ""))
	loc, _ := url.Parse(w.Header().Get("Location"))
	if w.Code != http.StatusSeeOther || loc.Host != "github.example" || loc.Path != "/login/oauth/authorize" {
		t.Fatalf("start: %d to %q", w.Code, w.Header().Get("Location"))
	}
	q := loc.Query()
	if q.Get("redirect_uri") != "http://example.com/signin/github/callback" || q.Get("code_challenge_method") != "S256" || q.Get("state") == "" {
		t.Errorf("authorize query %v", q)
	}
	var flow *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == "gatehouse_idp_github" {
			flow = c
		}
	}
	if flow == nil || flow.Path != "/signin/github/callback" || !flow.HttpOnly || flow.SameSite != http.SameSiteLaxMode {
		t.Fatalf("flow cookie %+v", flow)
	}

	// The callback with that cookie but a forged state: a page, counted.
	r := withCookie(newRequest("GET", "/signin/github/callback?state=forged&code=x", "", ""), flow)
	wantPage(t, s.serve(r), http.StatusBadRequest, "does not match one started in this browser", "GitHub")
	// The provider refused: access_denied.
	r = withCookie(newRequest("GET", "/signin/github/callback?error=access_denied&state="+url.QueryEscape(q.Get("state")), "", ""), flow)
	wantPage(t, s.serve(r), http.StatusForbidden, "GitHub did not sign you in")
	// Used once: the same cookie again is a replay.
	r = withCookie(newRequest("GET", "/signin/github/callback?error=access_denied&state="+url.QueryEscape(q.Get("state")), "", ""), flow)
	wantPage(t, s.serve(r), http.StatusBadRequest, "already used")
	if got := strings.Join(m.idpEv, " "); got != "github/state_invalid github/provider_error github/state_replayed" {
		t.Errorf("metrics %q", got)
	}
	events, _ := s.store.Audit("", 10)
	if len(events) != 3 || events[0].Action != authstore.ActionLoginFailed || events[0].Detail != "provider github: state_replayed" {
		t.Errorf("audit %+v", events)
	}

	// An unknown provider, a nested path, and the old default path.
	for _, p := range []string{"/signin/nosuch", "/signin/github/x/callback"} {
		wantPage(t, s.serve(newRequest("GET", p, "", "")), http.StatusNotFound, "no such sign-in provider")
	}
	if w := s.serve(newRequest("GET", "/login/github", "", "")); w.Code != http.StatusNotFound {
		t.Errorf("the moved endpoint still answers at its default path: %d", w.Code)
	}
	if w := s.serve(newRequest("POST", "/signin/github", "", "")); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST start: %d", w.Code)
	}
	// The OIDC provider is unreachable: a page naming it, never its secret.
	body := wantPage(t, s.serve(newRequest("GET", "/signin/corp", "", "")), http.StatusBadGateway, "Corp SSO cannot be reached")
	if strings.Contains(body, "id.invalid") {
		t.Error("the refusal page shows the provider's internals")
	}
}
