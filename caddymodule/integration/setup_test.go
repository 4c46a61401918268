package integration

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/api"
)

// setupTokenFromLog finds the first-admin setup token in Caddy's log.
func (g *gateway) setupTokenFromLog() string {
	g.t.Helper()
	for _, line := range g.logLines() {
		var entry struct {
			SetupURL string `json:"setup_url"`
		}
		if json.Unmarshal([]byte(line), &entry) == nil && entry.SetupURL != "" {
			_, tok, _ := strings.Cut(entry.SetupURL, "#")
			return tok
		}
	}
	g.t.Fatal("no setup link in the log")
	return ""
}

// TestFirstAdminSetup starts a gateway on an empty store: the log holds a
// one-time setup link; the page creates the first account and signs it
// in; the link works once.
func TestFirstAdminSetup(t *testing.T) {
	g := newSessionGateway(t, "")
	tok := g.setupTokenFromLog()
	if !strings.HasPrefix(tok, "ghs_") {
		t.Fatalf("setup token %q", tok)
	}
	c := g.cookieClient()
	resp, body := c.do("GET", "/setup", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `id="setup_token"`) || strings.Contains(body, tok) {
		t.Fatalf("setup page: %d", resp.StatusCode)
	}

	form := func(token, login, pw, confirm string) url.Values {
		return url.Values{"setup_token": {token}, "login": {login}, "password": {pw}, "password_confirm": {confirm}}
	}
	for _, bad := range []struct {
		name   string
		form   url.Values
		status int
		msg    string
	}{
		{"wrong token", form(forgeValid("ghs_"), "root", "root password 1", "root password 1"), 403, "setup token is wrong"},
		{"passwords differ", form(tok, "root", "root password 1", "root password 2"), 400, "do not match"},
		{"short password", form(tok, "root", "short", "short"), 400, "at least 8"},
		{"bad login", form(tok, "no spaces", "root password 1", "root password 1"), 400, "A login is"},
	} {
		resp, body := c.do("POST", "/setup", bad.form)
		if resp.StatusCode != bad.status || !strings.Contains(body, bad.msg) || sessionCookie(resp) != nil {
			t.Errorf("%s: %d", bad.name, resp.StatusCode)
		}
	}
	var users []api.UserInfo
	g.admin("GET", "/gatehouse/users", nil, &users)
	if len(users) != 0 {
		t.Fatalf("a refused setup created %v", users)
	}
	// Cross-site setup posts are refused.
	if resp, _ := c.do("POST", "/setup", form(tok, "root", "root password 1", "root password 1"), "Origin: https://evil.example", "Sec-Fetch-Site: cross-site"); resp.StatusCode != 403 {
		t.Errorf("cross-site setup: %d", resp.StatusCode)
	}

	resp, _ = c.do("POST", "/setup", form(tok, "Root", "root password 1", "root password 1"))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/pat" || sessionCookie(resp) == nil {
		t.Fatalf("setup: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, body = c.do("GET", "/api/whoami", nil)
	if who := decodeInto[api.Whoami](t, body); who.Login != "root" || len(who.Scopes) != 5 {
		t.Errorf("first admin: %s", body)
	}

	// Once only.
	resp, body = g.cookieClient().do("POST", "/setup", form(tok, "root2", "root password 1", "root password 1"))
	if resp.StatusCode == http.StatusSeeOther || sessionCookie(resp) != nil || !strings.Contains(body, "already has accounts") {
		t.Errorf("second setup: %d", resp.StatusCode)
	}
	if resp, _ := g.get("/setup"); resp.StatusCode != 404 {
		t.Errorf("setup page after setup: %d", resp.StatusCode)
	}
	if resp, _ := g.cookieClient().login("root", "root password 1"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the first admin cannot log in: %d", resp.StatusCode)
	}
	// The setup token is in the startup log by design (the operator's
	// bootstrap secret), never in an access log: it travels in the POST
	// body or the URL fragment only.
	for _, line := range g.logLines() {
		if strings.Contains(line, tok) && !strings.Contains(line, `"setup_url"`) {
			t.Errorf("the setup token reached another log line: %s", line)
		}
	}
	g.assertNotLogged("root password 1", c.sessionJWT())
}
