package integration

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
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
	var users []struct{ Login string }
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
	if who := decodeInto[whoami](t, body); who.Login != "root" || len(who.Scopes) != 5 {
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

// TestSetupSurvivesAgentRegistration: with open registration on a fresh
// store, registered agents never end first-admin setup, across a restart
// too; the first administrator cannot take an agent's login, and once it
// exists setup is over while registration goes on.
func TestSetupSurvivesAgentRegistration(t *testing.T) {
	for _, tc := range []struct {
		name    string
		agents  []string
		restart bool // start a new server on the store after the agents registered
		admin   string
	}{
		{"one agent", []string{"crawler-1"}, false, "admin"},
		{"several agents", []string{"a1", "b2", "zz-top"}, false, "root"},
		{"an agent, then a restart", []string{"crawler-1"}, true, "alice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newRegistrationGateway(t)
			g.dumpLogOnFailure()
			tok := g.setupTokenFromLog()
			for _, a := range tc.agents {
				g.register(a, "wiki:read")
			}
			if tc.restart {
				g = newLimitedGateway(t, setup{global: registrationGlobal, servers: trustLoopback, store: g.store})
				g.dumpLogOnFailure()
				tok = g.setupTokenFromLog() // no link in the log: setup was ended by an agent
			}
			if c := g.counts(); c.Users != len(tc.agents) {
				t.Fatalf("store holds %+v, want the %d agents", c, len(tc.agents))
			}

			c := g.cookieClient()
			ip := freshIP()
			resp, body := c.do("GET", "/setup", nil, ip)
			if resp.StatusCode != 200 || !strings.Contains(body, `id="setup_token"`) {
				t.Fatalf("setup page with only agents: %d", resp.StatusCode)
			}
			form := func(login string) url.Values {
				return url.Values{"setup_token": {tok}, "login": {login}, "password": {"admin password 1"}, "password_confirm": {"admin password 1"}}
			}
			// An agent's login is not the first admin's to take; the token
			// stays usable.
			resp, body = c.do("POST", "/setup", form(strings.ToUpper(tc.agents[0])), ip)
			if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "already has this login") || sessionCookie(resp) != nil {
				t.Errorf("setup as agent %s: %d", tc.agents[0], resp.StatusCode)
			}
			resp, _ = c.do("POST", "/setup", form(tc.admin), ip)
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/pat" || sessionCookie(resp) == nil {
				t.Fatalf("setup with only agents: %d %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			_, body = c.do("GET", "/api/whoami", nil, ip)
			if who := decodeInto[whoami](t, body); who.Login != tc.admin || len(who.Scopes) != 5 {
				t.Errorf("first admin: %s", body)
			}
			var users []struct{ Login, Kind string }
			g.admin("GET", "/gatehouse/users", nil, &users)
			humans := 0
			for _, u := range users {
				if u.Kind == "user" {
					humans++
					if u.Login != tc.admin {
						t.Errorf("human %s besides the first admin", u.Login)
					}
				}
			}
			if humans != 1 || len(users) != len(tc.agents)+1 {
				t.Errorf("users %+v: want the agents and one human", users)
			}

			// Setup is over; registration is not.
			if resp, _ := g.get("/setup"); resp.StatusCode != 404 {
				t.Errorf("setup page after setup: %d", resp.StatusCode)
			}
			g.register("late-agent", "wiki:read")
			if resp, _ := g.get("/setup"); resp.StatusCode != 404 {
				t.Errorf("setup page after a later registration: %d", resp.StatusCode)
			}
			resp, body = g.cookieClient().do("POST", "/setup", form("second-admin"), freshIP())
			if resp.StatusCode == http.StatusSeeOther || sessionCookie(resp) != nil || !strings.Contains(body, "already has accounts") {
				t.Errorf("second setup: %d", resp.StatusCode)
			}
		})
	}
}
