package integration

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/client"
)

// These tests run the real `gatehouse` binary against a real Caddy with
// Gatehouse and a real store, and approve its device logins through the
// server's own pages: no fake server anywhere.

// TestGatehouseCLIDeviceLogin is the whole life of a login: the device
// flow approved in the browser, the stored token (file modes, never
// printed), `auth status`, `api` within and beyond the token's scopes, and
// `auth logout`, after which the gateway refuses the token.
func TestGatehouseCLIDeviceLogin(t *testing.T) {
	g := newCLIGateway(t, "")
	h := newCLIHome(t)
	host := cliHost()

	run := h.startLogin("auth", "login", "-s", host, "--no-browser",
		"--scopes", "papers:read", "--token-name", "laptop", "--expires-days", "30", "--timeout", "60")
	p := run.prompt()
	if want := g.base + "/device?user_code=" + p.userCode; p.url != want {
		t.Errorf("the CLI sends the person to %s, want %s", p.url, want)
	}
	resp, page := newFormBrowser(t).decideDevice(p, "alice", "approve", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(strings.ToLower(page), "return to your terminal") {
		t.Fatalf("approving: %d %s", resp.StatusCode, page)
	}
	res := run.wait()
	if res.code != 0 {
		t.Fatalf("%v", res)
	}

	// What was stored, and how.
	h.assertModes()
	key := "http://" + host
	entry := h.hostsFile().Host(key)
	if entry == nil {
		t.Fatalf("hosts.yml has no entry for %s", key)
	}
	tok := entry.Token
	if !strings.HasPrefix(tok, "qat_") || entry.User != "alice" || !slices.Equal(entry.Scopes, []string{"papers:read"}) ||
		entry.TokenName != "laptop" || entry.TokenID == "" || time.Since(entry.AddedAt) > time.Minute {
		t.Errorf("stored entry: %v %+v", entry, *entry)
	}
	if d := time.Until(entry.ExpiresAt); d < 30*24*time.Hour-time.Hour || d > 30*24*time.Hour {
		t.Errorf("stored expiry %v, want in 30 days", entry.ExpiresAt)
	}
	raw, _ := os.ReadFile(h.hostsPath())
	for _, field := range []string{"hosts:", key + ":", "token: " + tok, "user: alice", "added_at:"} {
		if !strings.Contains(string(raw), field) {
			t.Errorf("hosts.yml lacks %q:\n%s", field, raw)
		}
	}

	for _, want := range []string{"✓ Logged in to " + host + " as alice", entry.Hint(), `"laptop"`, "scopes:  papers:read", "expires: " + client.FormatTime(entry.ExpiresAt)} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("login output lacks %q:\n%v", want, res)
		}
	}
	// The stored token is the server's: it works at the gateway.
	wresp, wbody := g.get("/api/whoami", "Authorization: Bearer "+tok)
	w := decodeInto[api.Whoami](t, string(wbody))
	if wresp.StatusCode != 200 || w.Login != "alice" || w.Credential != "pat" || w.TokenID != entry.TokenID {
		t.Fatalf("the stored token at the gateway: %d %s", wresp.StatusCode, wbody)
	}

	// auth status checks it with the server.
	res = h.mustRun(nil, "auth", "status")
	for _, want := range []string{"✓ " + host, "alice", entry.Hint(), "papers:read", "valid until " + client.FormatTime(entry.ExpiresAt)} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("status lacks %q:\n%v", want, res)
		}
	}

	// api within the token's scope: the body, exit 0, no expiry warning
	// 30 days ahead.
	res = h.mustRun(nil, "api", "/api/papers/42")
	if !strings.Contains(res.stdout, `"path":"/api/papers/42"`) || strings.Contains(res.stderr, "expires in") {
		t.Errorf("api GET:\n%v", res)
	}
	if got := g.upstream.lastRequest().Header.Get("Gatehouse-User"); got != "alice" {
		t.Errorf("the upstream saw user %q", got)
	}

	// api beyond it: the body still printed, exit 1, the fix on stderr.
	cases := []struct {
		name  string
		args  []string
		body  string
		fixes []string
	}{
		{"missing scope", []string{"api", "-X", "POST", "/api/papers/42"}, `"insufficient_scope"`, []string{
			"token for " + host + " lacks scope papers:write",
			"gatehouse auth login -s " + host + " --scopes papers:read,papers:write",
		}},
		{"denied route", []string{"api", "/admin/users"}, `"forbidden"`, []string{"GET /admin/users on " + host + ": 403 Forbidden"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := h.run(nil, tc.args...)
			if res.code != 1 || !strings.Contains(res.stdout, tc.body) {
				t.Errorf("want exit 1 and the body printed:\n%v", res)
			}
			for _, fix := range tc.fixes {
				if !strings.Contains(res.stderr, fix) {
					t.Errorf("stderr lacks %q:\n%v", fix, res)
				}
			}
		})
	}

	// logout revokes on the server, then forgets.
	res = h.mustRun(nil, "auth", "logout")
	for _, want := range []string{"✓ Revoked token " + entry.Hint() + " on " + host, "✓ Logged out of " + host} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("logout output lacks %q:\n%v", want, res)
		}
	}
	if resp, body := g.get("/api/papers/42", "Authorization: Bearer "+tok); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "revoked") {
		t.Errorf("the gateway after logout: %d %s", resp.StatusCode, body)
	}
	if hf := h.hostsFile(); len(hf.Hosts) != 0 {
		t.Errorf("hosts.yml still holds %v", hf.SortedHosts())
	}
	h.assertModes()
	for _, args := range [][]string{{"auth", "status"}, {"api", "/api/papers/42"}, {"auth", "logout"}} {
		if res := h.run(nil, args...); res.code != 1 || !strings.Contains(res.stderr, "not logged in") ||
			!strings.Contains(res.stderr, "gatehouse auth login -s HOST") {
			t.Errorf("after logout:\n%v", res)
		}
	}

	h.assertNeverPrinted(tok, tok[len("qat_"):])
	// With the README's access-log filter, the user code (in the deep
	// link, the login redirect and its Location) is logged nowhere either.
	g.assertNotLogged(tok, cliPassword, p.userCode, strings.ReplaceAll(p.userCode, "-", ""))
}

// TestGatehouseCLIBrowserChoicesWin: what the person chooses on the
// approval page (fewer scopes, a shorter life, another name) wins over
// what the CLI asked for; a token that ends within a week is warned about
// on every api call.
func TestGatehouseCLIBrowserChoicesWin(t *testing.T) {
	g := newCLIGateway(t, "")
	h := newCLIHome(t)
	host := cliHost()

	run := h.startLogin("auth", "login", "-s", host, "--no-browser",
		"--scopes", "papers:read,papers:write", "--token-name", "asked by the CLI", "--expires-days", "30", "--timeout", "60")
	p := run.prompt()
	b := newFormBrowser(t)
	_, page := b.openDevicePage(p.url, "alice", cliPassword)
	// The page starts from what the CLI asked for.
	_, asked := approvalForm(t, &url.URL{Scheme: "http", Host: host, Path: "/device"}, page)
	if s := asked["scope"]; len(s) != 2 || !slices.Contains(s, "papers:read") || !slices.Contains(s, "papers:write") ||
		asked.Get("expires_days") != "30" || asked.Get("token_name") != "asked by the CLI" {
		t.Errorf("the form does not start with what the CLI asked for: %v", asked)
	}
	// The person takes a few seconds over the form while the CLI polls:
	// a polite client is never told to slow down, and notices the
	// approval within a poll (1 s interval, polled every 2 s).
	time.Sleep(3500 * time.Millisecond)
	resp, body := b.decideDevice(p, "alice", "approve", url.Values{
		"scope": {"papers:read"}, "expires_days": {"3"}, "token_name": {"chosen in the browser"},
	})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("approving: %d %s", resp.StatusCode, body)
	}
	approved := time.Now()
	res := run.wait()
	if res.code != 0 {
		t.Fatalf("%v", res)
	}
	if d := time.Since(approved); d > 4*time.Second {
		t.Errorf("the CLI noticed the approval after %v", d)
	}
	for _, line := range g.logLines() {
		if strings.Contains(line, "device_slow_down") {
			t.Errorf("the CLI was told to slow down: %s", line)
		}
	}
	if !strings.Contains(res.stdout, "scopes:  papers:read\n") || !strings.Contains(res.stdout, `"chosen in the browser"`) || !strings.Contains(res.stdout, "(in 3 days)") {
		t.Errorf("login output:\n%v", res)
	}
	entry := h.hostsFile().Host("http://" + host)
	if entry == nil || !slices.Equal(entry.Scopes, []string{"papers:read"}) || entry.TokenName != "chosen in the browser" {
		t.Fatalf("stored: %+v", entry)
	}
	if d := time.Until(entry.ExpiresAt); d < 3*24*time.Hour-time.Hour || d > 3*24*time.Hour {
		t.Errorf("stored expiry %v, want in 3 days", entry.ExpiresAt)
	}
	// The server agrees: the token has only the scope the browser chose.
	var tokens []api.TokenInfo
	g.admin("GET", "/gatehouse/tokens?user=alice", nil, &tokens)
	if len(tokens) != 1 || !slices.Equal(tokens[0].Scopes, []string{"papers:read"}) || tokens[0].CreatedVia != "device" {
		t.Errorf("tokens on the server: %+v", tokens)
	}

	warning := "! the token for " + host + " expires in 3 days (" + client.FormatTime(entry.ExpiresAt) + "); to renew it, run: gatehouse auth login -s " + host
	res = h.mustRun(nil, "api", "/api/papers/1")
	if !strings.Contains(res.stderr, warning) || !strings.Contains(res.stdout, `"path":"/api/papers/1"`) {
		t.Errorf("api with a token ending within a week:\n%v\nwant the warning %q", res, warning)
	}
	// A refusal carries the expiry too, so the warning comes with it.
	res = h.run(nil, "api", "-X", "POST", "-d", `{"title":"On Gates"}`, "/api/papers/1")
	if res.code != 1 || !strings.Contains(res.stderr, "lacks scope papers:write") || !strings.Contains(res.stderr, warning) {
		t.Errorf("api beyond the browser's scopes:\n%v", res)
	}
	if res := h.mustRun(nil, "auth", "status"); !strings.Contains(res.stdout, "expires in 3 days") {
		t.Errorf("status:\n%v", res)
	}
	h.assertNeverPrinted(entry.Token)
}

// TestGatehouseCLIDeviceDenied: a login denied in the browser ends with
// "access denied", stores nothing and mints nothing.
func TestGatehouseCLIDeviceDenied(t *testing.T) {
	g := newCLIGateway(t, "")
	h := newCLIHome(t)
	run := h.startLogin("auth", "login", "-s", cliHost(), "--no-browser", "--scopes", "papers:read", "--timeout", "60")
	p := run.prompt()
	b := newFormBrowser(t)
	if resp, body := b.decideDevice(p, "alice", "deny", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("denying: %d %s", resp.StatusCode, body)
	}
	res := run.wait()
	if res.code != 1 || !strings.Contains(res.stderr, "gatehouse: device login on "+cliHost()+" was denied in the browser: access denied") ||
		strings.Contains(res.stdout, "Logged in") {
		t.Errorf("%v", res)
	}
	if _, err := os.Stat(h.hostsPath()); !os.IsNotExist(err) {
		t.Errorf("a denied login wrote hosts.yml: %v", err)
	}
	if n := g.tokenCount("alice"); n != 0 {
		t.Errorf("a denied login minted %d tokens", n)
	}
	// The code is spent: approving it now (the same browser, posting
	// the form again) is refused.
	resp, body := b.do("POST", g.base+"/device", url.Values{"user_code": {p.userCode}, "token_name": {"again"},
		"expires_days": {"30"}, "scope": {"papers:read"}, "action": {"approve"}})
	if resp.StatusCode < 400 || resp.StatusCode >= 500 {
		t.Errorf("approving a denied code: %d %s", resp.StatusCode, body)
	}
	if n := g.tokenCount("alice"); n != 0 {
		t.Errorf("approving a denied code minted %d tokens", n)
	}
}

// TestGatehouseCLIWithToken: a token piped in is checked with /api/whoami
// and stored; what is not a working PAT is refused and changes nothing;
// a token revoked later is reported with its fix.
func TestGatehouseCLIWithToken(t *testing.T) {
	g := newCLIGateway(t, "")
	h := newCLIHome(t)
	host := cliHost()
	tok, id := g.mintWithID("alice", 30, "papers:read", "wiki:read")

	res := h.mustRun(strings.NewReader(tok+"\n"), "auth", "login", "-s", host, "--with-token")
	if !strings.Contains(res.stdout, "✓ Logged in to "+host+" as alice") || !strings.Contains(res.stdout, "papers:read") || !strings.Contains(res.stdout, "wiki:read") {
		t.Errorf("%v", res)
	}
	h.assertModes()
	entry := h.hostsFile().Host("http://" + host)
	if entry == nil || entry.Token != tok || entry.TokenID != id || entry.User != "alice" {
		t.Fatalf("stored: %+v", entry)
	}
	res = h.mustRun(nil, "api", "/api/whoami")
	var w api.Whoami
	if err := json.Unmarshal([]byte(res.stdout), &w); err != nil || w.Login != "alice" || w.Credential != "pat" || w.TokenID != id {
		t.Errorf("api /api/whoami: %v\n%v", err, res)
	}
	stored, _ := os.ReadFile(h.hostsPath())

	// Refused input leaves hosts.yml as it was.
	revoked, revokedID := g.mintWithID("alice", 30, "papers:read")
	g.admin("DELETE", "/gatehouse/tokens/"+revokedID, nil, nil)
	session := g.cookieClient().mustLogin("alice", cliPassword)
	refused := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"revoked token", revoked + "\n", nil, 1, "checking the token: token for " + host + " was revoked; run: gatehouse auth login -s " + host},
		{"unknown token", "qat_" + strings.Repeat("A", 36) + "\n", nil, 1, "checking the token: token for " + host + " was refused"},
		{"a session, not a PAT", session + "\n", nil, 1, "that is a session credential, not a personal access token"},
		{"two lines", tok + "\n" + tok + "\n", nil, 1, "more than one line"},
		{"nothing", "\n", nil, 1, "the token is empty"},
		{"token on the command line", "", []string{tok}, 2, "takes no arguments: give the server with -s HOST, and pipe a token to --with-token"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			res := h.run(strings.NewReader(tc.stdin), append([]string{"auth", "login", "-s", host, "--with-token"}, tc.args...)...)
			if res.code != tc.code || !strings.Contains(res.stderr, tc.want) || strings.Contains(res.stdout, "Logged in") {
				t.Errorf("want exit %d and %q:\n%v", tc.code, tc.want, res)
			}
			if now, _ := os.ReadFile(h.hostsPath()); string(now) != string(stored) {
				t.Errorf("hosts.yml changed:\n%s", now)
			}
		})
	}

	// The operator disables alice: her token is refused with the reason,
	// and no login can fix that.
	g.admin("POST", "/gatehouse/users/alice/disable", nil, nil)
	disabled := "the account that owns the token for " + host + " is disabled; ask the operator of " + host
	if res := h.run(nil, "api", "/api/papers/1"); res.code != 1 || !strings.Contains(res.stderr, disabled) {
		t.Errorf("api for a disabled user, want %q:\n%v", disabled, res)
	}
	if res := h.run(nil, "auth", "status"); res.code != 1 || !strings.Contains(res.stdout, "user disabled; ask the server's operator") {
		t.Errorf("status for a disabled user:\n%v", res)
	}
	g.admin("POST", "/gatehouse/users/alice/enable", nil, nil)
	h.mustRun(nil, "api", "/api/papers/1")

	// The operator revokes the stored token: api and status say so and
	// how to fix it; logout still forgets it.
	g.admin("DELETE", "/gatehouse/tokens/"+id, nil, nil)
	fix := "run: gatehouse auth login -s " + host
	res = h.run(nil, "api", "/api/papers/1")
	if res.code != 1 || !strings.Contains(res.stderr, "token for "+host+" was revoked; "+fix) || !strings.Contains(res.stdout, "invalid_token") {
		t.Errorf("api with a revoked token:\n%v", res)
	}
	res = h.run(nil, "auth", "status")
	if res.code != 1 || !strings.Contains(res.stdout, "✗ "+host) || !strings.Contains(res.stdout, "revoked; "+fix) {
		t.Errorf("status with a revoked token:\n%v", res)
	}
	res = h.mustRun(nil, "auth", "logout")
	if !strings.Contains(res.stderr, "already refuses the token") || !strings.Contains(res.stdout, "✓ Logged out of "+host) {
		t.Errorf("logout with a revoked token:\n%v", res)
	}
	h.assertNeverPrinted(tok, revoked, session)
	g.assertNotLogged(tok, revoked, session)
}
