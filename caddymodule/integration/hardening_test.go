package integration

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestCredentialsNeverForwarded: whatever the outcome of authentication,
// the upstream never receives a Gatehouse credential: not the Authorization
// header, not a session cookie of either name (a gatehouse_session cookie
// sent over TLS is not read there, so the request is anonymous, but the
// cookie is still a credential).
func TestCredentialsNeverForwarded(t *testing.T) {
	g := newSessionGateway(t, "")
	g.addUserWithPassword("ivy", "ivy password 12")
	jwt := g.cookieClient().mustLogin("ivy", "ivy password 12")
	cases := map[string][]string{
		"the other cookie name":           {"Cookie: theme=dark; __Host-gatehouse_session=" + jwt},
		"a valid cookie on an open route": {"Cookie: gatehouse_session=" + jwt + "; theme=dark"},
	}
	for name, headers := range cases {
		t.Run(name, func(t *testing.T) {
			resp, _ := g.get("/api/wiki/x", headers...)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			up := g.upstream.lastRequest()
			if c := up.Header.Get("Cookie"); strings.Contains(c, jwt) || c != "theme=dark" {
				t.Errorf("upstream got Cookie %q", c)
			}
		})
	}
}

// TestSessionCookieBehindTLSProxy: behind a TLS-terminating proxy listed
// in trusted_proxies, the browser used HTTPS, so the cookie is Secure and
// __Host- prefixed; the same header from an untrusted client is ignored.
func TestSessionCookieBehindTLSProxy(t *testing.T) {
	for _, trusted := range []bool{true, false} {
		t.Run(fmt.Sprintf("trusted=%v", trusted), func(t *testing.T) {
			servers := ""
			if trusted {
				servers = "trusted_proxies static 127.0.0.1/32"
			}
			g := newGateway(t, setup{site: sessionSite, servers: servers})
			g.addUserWithPassword("jo", "jo password 123")
			form := url.Values{"login": {"jo"}, "password": {"jo password 123"}}
			resp, _ := g.cookieClient().do("POST", "/login", form, "X-Forwarded-Proto: https")
			c := sessionCookie(resp)
			if c == nil {
				t.Fatalf("no session cookie: %d", resp.StatusCode)
			}
			if trusted != (c.Name == "__Host-gatehouse_session" && c.Secure) {
				t.Errorf("cookie %s secure=%v", c.Name, c.Secure)
			}
		})
	}
}

// TestInvalidBearerOnOpenEndpoints: endpoints that need no credential
// still refuse a Bearer token that does not verify, rather than serve the
// caller as anonymous.
func TestInvalidBearerOnOpenEndpoints(t *testing.T) {
	g := newSessionGateway(t, "")
	for _, path := range []string{"/api/oauth/device/code", "/api/session"} {
		resp, body := g.do("POST", path, strings.NewReader("client_id=x"),
			"Content-Type: application/x-www-form-urlencoded", "Authorization: Bearer "+forgeValid("qat_"))
		if resp.StatusCode != 401 || !strings.Contains(string(body), "invalid_token") {
			t.Errorf("%s with an unknown token: %d %s", path, resp.StatusCode, body)
		}
	}
	// An OAuth client authenticating with HTTP Basic is not refused.
	req, _ := http.NewRequest("POST", g.base+"/api/oauth/device/code", strings.NewReader("scope=papers:read"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("basic-client", "")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("HTTP Basic client: %d", resp.StatusCode)
	}
}

// TestExpiryOnEveryPATResponse: a PAT's holder learns its expiry from
// refusals too, and from Gatehouse's own endpoints.
func TestExpiryOnEveryPATResponse(t *testing.T) {
	g := newSessionGateway(t, "")
	g.addUser("kim")
	tok := g.mint("kim", 3, "papers:read")
	bearer := "Authorization: Bearer " + tok
	for _, tc := range []struct{ method, path string }{
		{"POST", "/api/papers/1"}, // 403 insufficient scope
		{"GET", "/api/papers/1"},  // 200
		{"GET", "/api/whoami"},    // endpoint
		{"GET", "/api/pat"},       // 403 session required
	} {
		resp, _ := g.do(tc.method, tc.path, nil, bearer)
		if exp := resp.Header.Get("Gatehouse-Token-Expiration"); !strings.HasSuffix(exp, " UTC") {
			t.Errorf("%s %s (%d): Gatehouse-Token-Expiration %q", tc.method, tc.path, resp.StatusCode, exp)
		}
	}
}

// TestBackupIsNotAGet: the store backup (password hashes, TOTP seeds,
// signing keys) is not served to a plain GET on the admin API.
func TestBackupIsNotAGet(t *testing.T) {
	newGateway(t, setup{})
	resp, err := http.Get(fmt.Sprintf("http://localhost:%d/gatehouse/store/backup", adminPort))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET backup: %d", resp.StatusCode)
	}
}
