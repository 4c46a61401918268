package integration

import (
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/api"
)

// The identity provider tests run a real OpenID provider (mockoidc:
// discovery, JWKS, authorization and token endpoints with PKCE, RS256 ID
// tokens) in this process on a loopback port, and sign in through it
// with the real Caddy.

func startOIDCProvider(t *testing.T) *mockoidc.MockOIDC {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return m
}

// idpGlobal declares provider corp at m, its secret in a file.
func idpGlobal(t *testing.T, m *mockoidc.MockOIDC, extra string) string {
	t.Helper()
	secretFile := filepath.Join(t.TempDir(), "corp-secret")
	if err := os.WriteFile(secretFile, []byte(m.ClientSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf(`%s
%s
identity_provider corp oidc {
	label "Corp SSO"
	issuer %s
	client_id %s
	client_secret_file %s
	allow_email_domains example.com
	scopes papers:read
}`, defaultGlobal, extra, m.Issuer(), m.ClientID, secretFile)
}

// followTo gets path on the gateway and follows redirects, across hosts
// (the provider), until an answer that is not a redirect; it returns the
// last URL and the answer.
func (c *cookieClient) followTo(path string) (string, *http.Response, string) {
	c.g.t.Helper()
	u := c.g.base + path
	for range 10 {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("Accept", "text/html")
		resp, err := c.c.Do(req)
		if err != nil {
			c.g.t.Fatalf("GET %s: %v", u, err)
		}
		body := readBody(resp)
		if resp.StatusCode/100 != 3 {
			return u, resp, body
		}
		loc, err := resp.Location()
		if err != nil {
			c.g.t.Fatal(err)
		}
		u = loc.String()
	}
	c.g.t.Fatal("too many redirects")
	return "", nil, ""
}

func readBody(resp *http.Response) string {
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestIdentityProviderDeviceApproval: a browser without a session opens
// the device deep link, is sent to the login page, picks the provider,
// signs in there and comes back to the same approval form; the approval
// mints the CLI's token for the new, just-in-time account.
func TestIdentityProviderDeviceApproval(t *testing.T) {
	m := startOIDCProvider(t)
	g := newGateway(t, setup{global: idpGlobal(t, m, deviceGlobal), site: sessionSite})
	g.dumpLogOnFailure()
	m.QueueUser(&mockoidc.MockUser{Subject: "corp-7", PreferredUsername: "Wren", Email: "wren@example.com", EmailVerified: true})

	dev, done := startDeviceLogin(t, g, oauth2.SetAuthURLParam("scope", "papers:read"))
	link := "/device?user_code=" + url.QueryEscape(dev.UserCode)
	browser := g.cookieClient()
	resp, _ := browser.do("GET", link, nil)
	loginURL := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loginURL, "/login?next=") {
		t.Fatalf("without a session: %d %q", resp.StatusCode, loginURL)
	}
	resp, page := browser.do("GET", loginURL, nil)
	button := html.UnescapeString(between(page, `id="provider-0" href="`, `"`))
	if resp.StatusCode != 200 || !strings.Contains(page, "Sign in with Corp SSO") || button != "/login/corp?next="+url.QueryEscape(link) {
		t.Fatalf("login page: %d, button %q\n%s", resp.StatusCode, button, page)
	}
	if !strings.Contains(page, `id="password"`) {
		t.Error("local login is on: the password form should show beside the button")
	}

	last, resp, page := browser.followTo(button)
	if resp.StatusCode != 200 || last != g.base+link || !strings.Contains(page, dev.UserCode) {
		t.Fatalf("back from the provider at %s: %d\n%s", last, resp.StatusCode, page)
	}
	resp, page = browser.do("POST", "/device", url.Values{"user_code": {dev.UserCode}, "action": {"approve"},
		"token_name": {"laptop"}, "expires_days": {"7"}, "scope": {"papers:read"}})
	if resp.StatusCode != 200 || !strings.Contains(page, "return to your terminal") {
		t.Fatalf("approve: %d %s", resp.StatusCode, between(page, `id="error"`, "</p>"))
	}
	out := wait(t, done)
	if out.err != nil {
		t.Fatalf("client: %v", out.err)
	}
	if resp, _ := g.get("/api/papers/1", "Authorization: Bearer "+out.tok.AccessToken); resp.StatusCode != 200 {
		t.Errorf("the PAT of the IdP account: %d", resp.StatusCode)
	}

	// The account: created at the first sign-in, with the provider's
	// scopes, and the PAT page works with the same session.
	var users []api.UserInfo
	g.admin("GET", "/gatehouse/users", nil, &users)
	if len(users) != 1 || users[0].Login != "wren" || len(users[0].Scopes) != 1 || users[0].Scopes[0] != "papers:read" {
		t.Fatalf("users: %+v", users)
	}
	if resp, page := browser.do("GET", "/pat", nil); resp.StatusCode != 200 || !strings.Contains(page, "laptop") {
		t.Errorf("/pat after an IdP sign-in: %d", resp.StatusCode)
	}
	if actions := g.auditActions("wren"); countOf(actions, "login.external") != 1 || countOf(actions, "identity.linked") != 1 {
		t.Errorf("audit: %v", actions)
	}

	// next is checked at the start as the login form checks it: a
	// foreign URL ends on the PAT page.
	m.QueueUser(&mockoidc.MockUser{Subject: "corp-7", PreferredUsername: "Wren", Email: "wren@example.com", EmailVerified: true})
	if last, resp, _ := g.cookieClient().followTo("/login/corp?next=" + url.QueryEscape("https://evil.example/")); resp.StatusCode != 200 || last != g.base+"/pat" {
		t.Errorf("next=https://evil.example/ ended at %s (%d)", last, resp.StatusCode)
	}
	g.assertNotLogged(m.ClientSecret)
}

// TestIdentityProviderRefusals: a verified email at another domain is
// refused with a page naming the provider, creates no account and no
// session, and is audited; a replayed callback is refused too.
func TestIdentityProviderRefusals(t *testing.T) {
	m := startOIDCProvider(t)
	g := newGateway(t, setup{global: idpGlobal(t, m, ""), site: sessionSite})
	g.dumpLogOnFailure()
	m.QueueUser(&mockoidc.MockUser{Subject: "corp-8", PreferredUsername: "mal", Email: "mal@elsewhere.example", EmailVerified: true})
	browser := g.cookieClient()
	_, resp, page := browser.followTo("/login/corp")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "Corp SSO") || !strings.Contains(page, `id="retry"`) {
		t.Fatalf("wrong domain: %d\n%s", resp.StatusCode, page)
	}
	if browser.sessionJWT() != "" {
		t.Error("a refused sign-in left a session cookie")
	}
	var users []api.UserInfo
	g.admin("GET", "/gatehouse/users", nil, &users)
	if len(users) != 0 {
		t.Fatalf("a refused sign-in created %+v", users)
	}
	var events []api.AuditEvent
	g.admin("GET", "/gatehouse/audit", nil, &events)
	found := false
	for _, e := range events {
		found = found || (e.Action == "login.failed" && strings.Contains(e.Detail, "provider corp: email_domain"))
	}
	if !found {
		t.Errorf("no audit event for the refusal: %+v", events)
	}

	// Counted by provider and outcome in Caddy's registry.
	resp, err := http.Get(fmt.Sprintf("http://localhost:%d/metrics", adminPort))
	if err != nil {
		t.Fatal(err)
	}
	if metrics := readBody(resp); !strings.Contains(metrics, `gatehouse_identity_logins_total{outcome="email_domain",provider="corp"}`) {
		t.Errorf("/metrics lacks the refusal:\n%s", metrics)
	}

	// Unknown provider: a page, not a stack trace.
	if resp, _ := browser.do("GET", "/login/nosuch", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown provider: %d", resp.StatusCode)
	}
	// A callback without the flow cookie.
	if resp, page := g.cookieClient().do("GET", "/login/corp/callback?state=x&code=y", nil); resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "Corp SSO") {
		t.Errorf("callback without a flow: %d", resp.StatusCode)
	}
	g.assertNotLogged(m.ClientSecret)
}

// TestLocalLoginOff: the login page shows only the provider's button and
// a password is refused, even a right one.
func TestLocalLoginOff(t *testing.T) {
	m := startOIDCProvider(t)
	g := newGateway(t, setup{global: idpGlobal(t, m, "local_login off"), site: sessionSite})
	g.dumpLogOnFailure()
	g.addUserWithPassword("olga", "olga password 1")
	browser := g.cookieClient()
	resp, page := browser.do("GET", "/login", nil)
	if resp.StatusCode != 200 || strings.Contains(page, `id="password"`) || !strings.Contains(page, `id="provider-0"`) {
		t.Fatalf("login page with local_login off: %d\n%s", resp.StatusCode, page)
	}
	if resp, _ := browser.login("olga", "olga password 1"); resp.StatusCode != http.StatusForbidden || browser.sessionJWT() != "" {
		t.Errorf("password login with local_login off: %d", resp.StatusCode)
	}
	if code, _ := g.postForm("/api/session", url.Values{"login": {"olga"}, "password": {"olga password 1"}}); code != http.StatusForbidden {
		t.Errorf("CLI password login with local_login off: %d", code)
	}
}

// TestIdentityProviderExplicitLink: a local account with the same email
// is not taken over by a sign-in; once the operator links it with `caddy
// gatehouse user link`, the provider's subject signs in to it.
func TestIdentityProviderExplicitLink(t *testing.T) {
	m := startOIDCProvider(t)
	g := newGateway(t, setup{global: idpGlobal(t, m, ""), site: sessionSite})
	g.dumpLogOnFailure()
	g.addUser("pia")
	pia := &mockoidc.MockUser{Subject: "corp-9", PreferredUsername: "pia", Email: "pia@example.com", EmailVerified: true}

	m.QueueUser(pia)
	_, resp, page := g.cookieClient().followTo("/login/corp?next=/api/whoami")
	who := decodeInto[api.Whoami](t, page)
	if resp.StatusCode != 200 || who.Login != "pia-2" {
		t.Fatalf("unlinked sign-in: %d %s; want a new account pia-2", resp.StatusCode, page)
	}
	if _, stderr, err := g.caddy("gatehouse", "user", "unlink", "corp", "corp-9"); err != nil {
		t.Fatalf("unlink: %v %s", err, stderr)
	}
	if _, stderr, err := g.caddy("gatehouse", "user", "link", "pia", "corp", "corp-9"); err != nil || !strings.Contains(stderr, "pia signs in through corp as subject corp-9") {
		t.Fatalf("link: %v %s", err, stderr)
	}
	if stdout, _, err := g.caddy("gatehouse", "user", "links", "pia"); err != nil || !strings.Contains(stdout, "corp-9") {
		t.Fatalf("links: %v %s", err, stdout)
	}
	m.QueueUser(pia)
	_, resp, page = g.cookieClient().followTo("/login/corp?next=/api/whoami")
	if who := decodeInto[api.Whoami](t, page); resp.StatusCode != 200 || who.Login != "pia" {
		t.Fatalf("linked sign-in: %d %s; want pia", resp.StatusCode, page)
	}
	// A subject already linked elsewhere is refused.
	if _, stderr, err := g.caddy("gatehouse", "user", "link", "pia-2", "corp", "corp-9"); err == nil || !strings.Contains(stderr, "linked to another account") {
		t.Errorf("stealing a link: %v %s", err, stderr)
	}
}

// TestIdentityProviderSecretFromEnv: `caddy validate` resolves the
// client secret; an unset variable fails naming the variable, and a set
// one never shows in the output.
func TestIdentityProviderSecretFromEnv(t *testing.T) {
	file := filepath.Join(t.TempDir(), "Caddyfile")
	body := `{
	gatehouse {
		store ` + filepath.Join(t.TempDir(), "gh.db") + `
		identity_provider corp oidc {
			issuer https://id.example.com
			client_id gatehouse
			client_secret {env.GATEHOUSE_TEST_IDP_SECRET}
		}
	}
}
:0 {
	gatehouse {
		endpoints
	}
	respond ok
}`
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Unsetenv("GATEHOUSE_TEST_IDP_SECRET")
	_, stderr, err := runCaddy(t, "validate", "--config", file)
	if err == nil || !strings.Contains(stderr, "GATEHOUSE_TEST_IDP_SECRET") {
		t.Fatalf("unset secret: %v\n%s", err, stderr)
	}
	cmd := []string{"validate", "--config", file}
	t.Setenv("GATEHOUSE_TEST_IDP_SECRET", "very-secret-value")
	stdout, stderr, err := runCaddy(t, cmd...)
	if err != nil {
		t.Fatalf("set secret: %v\n%s", err, stderr)
	}
	if strings.Contains(stdout+stderr, "very-secret-value") {
		t.Error("the secret was printed")
	}
}
