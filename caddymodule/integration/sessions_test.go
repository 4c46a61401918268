package integration

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/api"
)

// TestSessionAsBearerAndSessionRule checks the session JWT sent as a
// Bearer token, and the `session` requirement, which admits browser
// sessions only.
func TestSessionAsBearerAndSessionRule(t *testing.T) {
	g := newSessionGateway(t, "")
	if code := g.admin("POST", "/gatehouse/users", map[string]any{"login": "alice", "scopes": []string{"papers:read"}}, nil); code != 201 {
		t.Fatalf("creating alice: %d", code)
	}
	g.setPassword("alice", "alice password 1")
	c := g.cookieClient()
	jwt := c.mustLogin("alice", "alice password 1")
	pat := g.mint("alice", 7, "papers:read")
	cli := g.cliLogin("alice", "alice password 1")
	bearer := func(tok string) string { return "Authorization: Bearer " + tok }

	cases := []struct {
		name    string
		path    string
		headers []string
		cookie  bool
		status  int
	}{
		{"session JWT as Bearer, scope route", "/api/papers/1", []string{bearer(jwt)}, false, 200},
		{"session cookie on a session route", "/browser/home", nil, true, 200},
		{"browser JWT as Bearer on a session route", "/browser/home", []string{bearer(jwt)}, false, 200},
		{"CLI access token on a session route", "/browser/home", []string{bearer(cli.AccessToken)}, false, 403},
		{"PAT on a session route", "/browser/home", []string{bearer(pat)}, false, 403},
		{"nothing on a session route", "/browser/home", nil, false, 401},
		{"CLI access token, scope route", "/api/papers/1", []string{bearer(cli.AccessToken)}, false, 200},
		{"tampered JWT", "/api/papers/1", []string{bearer(jwt[:len(jwt)-2] + "xx")}, false, 401},
		{"tampered JWT on an anonymous route is still refused", "/api/wiki/x", []string{bearer(jwt[:len(jwt)-2] + "xx")}, false, 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var resp *http.Response
			var body string
			if tc.cookie {
				resp, body = c.do("GET", tc.path, nil, tc.headers...)
			} else {
				var raw []byte
				resp, raw = g.get(tc.path, tc.headers...)
				body = string(raw)
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if tc.status == 403 && !strings.Contains(body, "this route requires a browser session") {
				t.Errorf("403 body %s", body)
			}
		})
	}

	// A session has exactly its user's scopes: alice holds papers:read only.
	resp, raw := g.do("POST", "/api/papers/1", nil, bearer(jwt))
	if resp.StatusCode != 403 || !strings.Contains(string(raw), "lacks papers:write") {
		t.Errorf("a session exceeded its user's scopes: %d %s", resp.StatusCode, raw)
	}
	_, raw = g.get("/api/whoami", bearer(jwt))
	who := decodeInto[api.Whoami](t, string(raw))
	if who.Credential != "session" || strings.Join(who.Scopes, " ") != "papers:read" {
		t.Errorf("whoami for a session: %s", raw)
	}
	g.assertNotLogged("alice password 1", jwt, pat, cli.AccessToken, cli.RefreshToken)
}

// TestLogout checks that logout ends the session at once, for the cookie
// and for the same JWT as a Bearer token, and "log out everywhere".
func TestLogout(t *testing.T) {
	g := newSessionGateway(t, "")
	g.addUserWithPassword("alice", "alice password 1")
	c1, c2 := g.cookieClient(), g.cookieClient()
	jwt1, jwt2 := c1.mustLogin("alice", "alice password 1"), c2.mustLogin("alice", "alice password 1")
	cli := g.cliLogin("alice", "alice password 1")

	resp, _ := c1.do("POST", "/logout", url.Values{}, "Accept: text/html")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Fatalf("logout: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if ck := sessionCookie(resp); ck == nil || ck.MaxAge >= 0 && ck.Value != "" {
		t.Errorf("logout did not clear the cookie: %+v", ck)
	}
	if c1.sessionJWT() != "" {
		t.Error("the cookie is still in the jar")
	}
	resp, raw := g.get("/api/whoami", "Authorization: Bearer "+jwt1)
	if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "session revoked") {
		t.Fatalf("the logged-out JWT: %d %s", resp.StatusCode, raw)
	}
	// A stale cookie is refused and cleared, never treated as anonymous.
	resp, _ = g.get("/api/wiki/x", "Cookie: gatehouse_session="+jwt1)
	if resp.StatusCode != 401 || sessionCookie(resp) == nil || sessionCookie(resp).MaxAge >= 0 {
		t.Errorf("stale cookie on an anonymous route: %d, Set-Cookie %q", resp.StatusCode, resp.Header.Get("Set-Cookie"))
	}
	// ... but it does not lock anyone out of the login page.
	if resp, _ := g.get("/login", "Cookie: gatehouse_session="+jwt1); resp.StatusCode != 200 {
		t.Errorf("login page with a stale cookie: %d", resp.StatusCode)
	}
	if resp, _ := c2.do("GET", "/api/whoami", nil); resp.StatusCode != 200 {
		t.Fatalf("the other session ended too: %d", resp.StatusCode)
	}

	// Log out everywhere: the browser sessions and the CLI session end.
	resp, body := c2.do("POST", "/logout", url.Values{"all": {"1"}})
	if resp.StatusCode != 200 || !strings.Contains(body, `"sessions_revoked":2`) {
		t.Fatalf("logout everywhere: %d %s", resp.StatusCode, body)
	}
	for name, tok := range map[string]string{"browser": jwt2, "cli": cli.AccessToken} {
		if resp, _ := g.get("/api/whoami", "Authorization: Bearer "+tok); resp.StatusCode != 401 {
			t.Errorf("%s session after log out everywhere: %d", name, resp.StatusCode)
		}
	}
	if resp, raw := g.do("POST", "/api/refresh", strings.NewReader(`{"refresh_token":"`+cli.RefreshToken+`"}`), "Content-Type: application/json"); resp.StatusCode != 400 || !strings.Contains(string(raw), "invalid_grant") {
		t.Errorf("refresh after log out everywhere: %d %s", resp.StatusCode, raw)
	}
	if n := countOf(g.auditActions("alice"), "session.revoked"); n != 3 {
		t.Errorf("%d session.revoked events, want 3", n)
	}
	g.assertNotLogged("alice password 1", jwt1, jwt2, cli.AccessToken, cli.RefreshToken)
}

// TestWhoamiAndRevokeWithSession checks whoami for a session and a PAT,
// a PAT revoking itself, and a session revoking one of its user's PATs.
func TestWhoamiAndRevokeWithSession(t *testing.T) {
	g := newSessionGateway(t, "")
	g.addUserWithPassword("alice", "alice password 1")
	g.addUser("bob")
	c := g.cookieClient()
	jwt := c.mustLogin("alice", "alice password 1")
	self, selfID := g.mintWithID("alice", 7, "papers:read")
	other, otherID := g.mintWithID("alice", 7, "papers:read")
	_, bobsID := g.mintWithID("bob", 7, "papers:read")

	_, body := c.do("GET", "/api/whoami", nil)
	who := decodeInto[api.Whoami](t, body)
	if who.Credential != "session" || who.SessionID == "" || who.TokenID != "" || who.Tier == "" {
		t.Errorf("whoami (session): %s", body)
	}
	_, raw := g.get("/api/whoami", "Authorization: Bearer "+self)
	if who := decodeInto[api.Whoami](t, string(raw)); who.Credential != "pat" || who.TokenID != selfID || who.SessionID != "" {
		t.Errorf("whoami (PAT): %s", raw)
	}

	// A PAT revokes itself with no parameters.
	resp, raw := g.do("POST", "/api/auth/revoke", nil, "Authorization: Bearer "+self)
	if resp.StatusCode != 200 || !strings.Contains(string(raw), selfID) {
		t.Fatalf("self-revoke: %d %s", resp.StatusCode, raw)
	}
	if resp, _ := g.get("/api/papers/1", "Authorization: Bearer "+self); resp.StatusCode != 401 {
		t.Errorf("self-revoked PAT: %d", resp.StatusCode)
	}
	// A session revokes its user's PAT by id, but not another user's.
	resp, body = c.do("POST", "/api/auth/revoke", url.Values{"token_id": {bobsID}})
	if resp.StatusCode != 404 {
		t.Errorf("a session revoked another user's token: %d %s", resp.StatusCode, body)
	}
	resp, body = c.do("POST", "/api/auth/revoke", url.Values{"token_id": {otherID}})
	if resp.StatusCode != 200 {
		t.Fatalf("session revoke: %d %s", resp.StatusCode, body)
	}
	if resp, _ := g.get("/api/papers/1", "Authorization: Bearer "+other); resp.StatusCode != 401 {
		t.Errorf("revoked PAT: %d", resp.StatusCode)
	}
	g.assertNotLogged("alice password 1", jwt, self, other)
}

// cliLogin logs in through POST /api/session.
func (g *gateway) cliLogin(login, pw string) api.CLITokens {
	g.t.Helper()
	resp, raw := g.do("POST", "/api/session", strings.NewReader(`{"login":"`+login+`","password":"`+pw+`"}`), "Content-Type: application/json")
	if resp.StatusCode != 200 {
		g.t.Fatalf("CLI login of %s: %d %s", login, resp.StatusCode, raw)
	}
	return decodeInto[api.CLITokens](g.t, string(raw))
}
