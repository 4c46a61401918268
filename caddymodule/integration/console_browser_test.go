package integration

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// consolePaths are every console page and every form a console page
// posts, for the refusal test.
var consolePaths = []struct {
	path string
	form url.Values
}{
	{"/gatehouse/admin", nil},
	{"/gatehouse/admin/users/alice", nil},
	{"/gatehouse/admin/tokens", nil},
	{"/gatehouse/admin/sessions", nil},
	{"/gatehouse/admin/members", nil},
	{"/gatehouse/admin/audit", nil},
	{"/gatehouse/admin", url.Values{"action": {"create"}, "login": {"eve2"}}},
	{"/gatehouse/admin/users/eve", url.Values{"action": {"admin"}, "admin": {"1"}}},
	{"/gatehouse/admin/users/alice", url.Values{"action": {"disable"}}},
	{"/gatehouse/admin/users/alice", url.Values{"action": {"enable"}}},
	{"/gatehouse/admin/users/alice", url.Values{"action": {"tier"}, "tier": {"free"}}},
	{"/gatehouse/admin/users/alice", url.Values{"action": {"scopes"}, "all_scopes": {"1"}}},
	{"/gatehouse/admin/users/alice", url.Values{"action": {"member_set"}, "type": {"project"}, "name": {"x"}, "role": {"edit"}}},
	{"/gatehouse/admin/users/alice", url.Values{"action": {"member_remove"}, "type": {"project"}, "name": {"x"}}},
	{"/gatehouse/admin/users/alice", url.Values{"action": {"reset_2fa"}}},
	{"/gatehouse/admin/users/alice", url.Values{"action": {"revoke_all"}}},
	{"/gatehouse/admin/users/alice", url.Values{"action": {"password_link"}}},
	{"/gatehouse/admin/tokens", url.Values{"token_id": {"tok_x"}}},
	{"/gatehouse/admin/sessions", url.Values{"session_id": {"ses_x"}}},
	{"/gatehouse/admin/members", url.Values{"action": {"member_set"}, "user": {"eve"}, "type": {"project"}, "name": {"x"}, "role": {"edit"}}},
}

// TestConsoleRefusesNonAdmin: a signed-in user without the administrator
// role gets 403 on every console URL and form, through the real server,
// and nothing changes; a PAT of an administrator is refused too (the
// console wants a browser session).
func TestConsoleRefusesNonAdmin(t *testing.T) {
	g := newSessionGateway(t, "")
	g.addUserWithPassword("alice", "alice password 1")
	g.addUserWithPassword("eve", "eve password 1")
	g.addUserWithPassword("root", "root password 1")
	if code := g.admin("POST", "/gatehouse/users/root/admin", map[string]bool{"admin": true}, nil); code != http.StatusOK {
		t.Fatalf("set-admin: %d", code)
	}
	eve := g.cookieClient()
	eve.mustLogin("eve", "eve password 1")
	before := len(g.auditActions(""))
	for _, c := range consolePaths {
		method := "GET"
		var body any
		if c.form != nil {
			method, body = "POST", c.form
		}
		resp, page := eve.do(method, c.path, body, "Accept: text/html")
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "Only administrators") {
			t.Errorf("%s %s as a non-admin: %d", method, c.path, resp.StatusCode)
		}
	}
	if after := len(g.auditActions("")); after != before {
		t.Errorf("refused console requests wrote %d audit events", after-before)
	}
	var users []struct {
		Login string `json:"login"`
		Admin bool   `json:"admin"`
	}
	g.admin("GET", "/gatehouse/users", nil, &users)
	for _, u := range users {
		if u.Admin != (u.Login == "root") || u.Login == "eve2" {
			t.Errorf("user %+v after the refused requests", u)
		}
	}
	tok := g.mint("root", 1, "wiki:read")
	if resp, _ := g.get("/gatehouse/admin", "Authorization: Bearer "+tok); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an administrator's PAT on the console: %d", resp.StatusCode)
	}
	if resp, _ := g.cookieClient().do("GET", "/gatehouse/admin", nil, "Accept: text/html"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("no credential: %d, want a redirect to sign in", resp.StatusCode)
	}
}

// TestBrowserConsole: an administrator creates a user and hands over the
// one-time link, which the new user opens to set a password and is
// signed in; the administrator searches, changes the tier, disables and
// enables, sets a membership, revokes a token and a session, and reads
// the audit trail with logins, each action named with them as actor; the
// new user is refused the console.
func TestBrowserConsole(t *testing.T) {
	ctx := startChromium(t)
	g := newSessionGateway(t, "tier free 60/1m\n\t\ttier pro 600/1m\n\t\tresource project read edit manage")
	g.addUserWithPassword("root", "root password 1")
	g.admin("POST", "/gatehouse/users/root/admin", map[string]bool{"admin": true}, nil)
	g.addUserWithPassword("alice", "alice password 1")
	_, tokID := g.mintWithID("alice", 30, "wiki:read")
	alice := g.cookieClient()
	alice.mustLogin("alice", "alice password 1")

	browserLogin(t, ctx, g, "/gatehouse/admin", "root", "root password 1", "", "#users")
	if err := chromedp.Do(ctx, chromedp.WaitVisible("#nav-console"), chromedp.WaitVisible("#user-alice")); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "console-users-en")

	// Create carol; the link is shown once.
	if err := chromedp.Do(ctx,
		chromedp.SetValue("#new-login", "carol"),
	); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, "#password-link", chromedp.Click("#create"))
	link := strings.TrimSpace(run(t, ctx, chromedp.Text("#password-link")))
	if !strings.HasPrefix(link, g.base+"/account/set-password#") {
		t.Fatalf("link %q", link)
	}
	g.assertNotLogged(link[strings.Index(link, "#")+1:])

	// Search.
	submit(t, ctx, "#user-alice", chromedp.SetValue("#q", "ali"), chromedp.Click("#search"))
	if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#users tbody tr[id^=user-]").length`)); n != 1 {
		t.Errorf("search for ali lists %d users", n)
	}

	// alice: tier, disable (her session stops working), enable, membership.
	steps := []struct {
		name    string
		actions []chromedp.Action[chromedp.Void]
	}{
		{"tier", []chromedp.Action[chromedp.Void]{chromedp.SetValue("#tier", "pro"), chromedp.Click("#set-tier")}},
		{"disable", []chromedp.Action[chromedp.Void]{chromedp.Click("#disable")}},
		{"enable", []chromedp.Action[chromedp.Void]{chromedp.Click("#enable")}},
		{"membership", []chromedp.Action[chromedp.Void]{chromedp.SetValue("#m-type", "project"), chromedp.SetValue("#m-name", "atlas"), chromedp.SetValue("#m-role", "edit"), chromedp.Click("#member-set")}},
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(g.base+"/gatehouse/admin/users/alice"), chromedp.WaitVisible("#user-info")); err != nil {
		t.Fatal(err)
	}
	for _, st := range steps {
		submit(t, ctx, "#notice", st.actions...)
		if st.name == "disable" {
			if resp, _ := alice.do("GET", "/api/whoami", nil); resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("a disabled user's session: %d", resp.StatusCode)
			}
		}
	}
	if tier := run(t, ctx, chromedp.Text("#user-tier")); tier != "pro" {
		t.Errorf("tier %q", tier)
	}
	if m := run(t, ctx, chromedp.Text("#members")); !strings.Contains(m, "project:atlas") || !strings.Contains(m, "edit") {
		t.Errorf("memberships %q", m)
	}
	screenshot(t, ctx, "console-user-en")

	// Tokens and sessions, fleet-wide.
	if err := chromedp.Do(ctx, chromedp.Navigate(g.base+"/gatehouse/admin/tokens"), chromedp.WaitVisible("#token-"+tokID)); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, "#notice", chromedp.Click("#revoke-"+tokID))
	screenshot(t, ctx, "console-tokens-en")
	if err := chromedp.Do(ctx, chromedp.Navigate(g.base+"/gatehouse/admin/sessions?user=alice"), chromedp.WaitVisible("#sessions")); err != nil {
		t.Fatal(err)
	}
	sid := run(t, ctx, chromedp.Evaluate[string](`(document.querySelector("#sessions tbody tr.status-active") || {id: ""}).id.replace("session-", "")`))
	if sid == "" {
		t.Fatal("alice's session is not listed")
	}
	submit(t, ctx, "#notice", chromedp.Click("#revoke-"+sid))
	screenshot(t, ctx, "console-sessions-en")

	// The audit trail names root, not usr_…, as the actor.
	if err := chromedp.Do(ctx, chromedp.Navigate(g.base+"/gatehouse/admin/audit?actor=root"), chromedp.WaitVisible("#audit")); err != nil {
		t.Fatal(err)
	}
	audit := run(t, ctx, chromedp.Text("#audit"))
	for _, want := range []string{"tier pro", "disabled", "enabled", "token.revoked", "session.revoked", "membership.changed", "password link issued"} {
		if !strings.Contains(audit, want) {
			t.Errorf("the audit trail lacks %q", want)
		}
	}
	if strings.Contains(audit, "usr_") {
		t.Error("the audit trail shows user ids")
	}
	screenshot(t, ctx, "console-audit-en")
	if err := chromedp.Do(ctx, chromedp.Navigate(g.base+"/gatehouse/admin/members?lang=zh"), chromedp.WaitVisible("#members")); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "console-members-zh")
	if err := chromedp.Do(ctx, chromedp.Navigate(g.base+"/gatehouse/admin"), chromedp.WaitVisible("#users")); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "console-users-zh")
	for _, p := range []struct{ path, wait, name string }{
		{"/gatehouse/admin/audit", "#audit", "console-audit-zh"},
		{"/gatehouse/admin/users/alice", "#user-info", "console-user-zh"},
		{"/gatehouse/admin/tokens?status=all", "#tokens", "console-tokens-zh"},
		{"/gatehouse/admin/sessions?status=all", "#sessions", "console-sessions-zh"},
		{"/gatehouse/admin/members?lang=en", "#members", "console-members-en"},
	} {
		if err := chromedp.Do(ctx, chromedp.Navigate(g.base+p.path), chromedp.WaitVisible(p.wait)); err != nil {
			t.Fatal(err)
		}
		screenshot(t, ctx, p.name)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(g.base+"/gatehouse/admin?lang=en"), chromedp.WaitVisible("#users")); err != nil {
		t.Fatal(err)
	}
	signOut(t, ctx)

	// carol opens her link, sets a password, is signed in, is no admin.
	if err := chromedp.Do(ctx, chromedp.Navigate(link), chromedp.WaitVisible("#set-password-form")); err != nil {
		t.Fatal(err)
	}
	if loc := run(t, ctx, chromedp.Location()); strings.Contains(loc, "#") {
		t.Errorf("the token stays in the address bar: %s", loc)
	}
	screenshot(t, ctx, "set-password-en")
	// The page in Chinese: the link opened again with ?lang=zh (only the
	// form's POST spends it), then in English again for the rest.
	if err := chromedp.Do(ctx, chromedp.Navigate(strings.Replace(link, "#", "?lang=zh#", 1)), chromedp.WaitVisible("#set-password-form")); err != nil {
		t.Fatal(err)
	}
	if h := run(t, ctx, chromedp.Text("h1")); h != "设置密码" {
		t.Errorf("zh set-password heading %q", h)
	}
	screenshot(t, ctx, "set-password-zh")
	if err := chromedp.Do(ctx, chromedp.Navigate(strings.Replace(link, "#", "?lang=en#", 1)), chromedp.WaitVisible("#set-password-form")); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.SetValue("#password", "carol password 1"),
		chromedp.SetValue("#password_confirm", "carol password 1"),
	); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, "#password-form", chromedp.Click("#submit"))
	if who := run(t, ctx, chromedp.Text("#signed-in")); !strings.Contains(who, "carol") {
		t.Errorf("signed in as %q", who)
	}
	if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#nav-console").length`)); n != 0 {
		t.Error("carol is offered the console")
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(g.base+"/gatehouse/admin"), chromedp.WaitVisible("#message")); err != nil {
		t.Fatal(err)
	}
	if m := run(t, ctx, chromedp.Text("#message")); !strings.Contains(m, "Only administrators") {
		t.Errorf("carol on the console: %q", m)
	}
	screenshot(t, ctx, "console-refused-en")
	if err := chromedp.Do(ctx, chromedp.Navigate(g.base+"/gatehouse/admin?lang=zh"), chromedp.WaitVisible("#message")); err != nil {
		t.Fatal(err)
	}
	if m := run(t, ctx, chromedp.Text("#message")); !strings.Contains(m, "只有管理员") {
		t.Errorf("carol on the console in zh: %q", m)
	}
	screenshot(t, ctx, "console-refused-zh")
	// The link worked once.
	if err := chromedp.Do(ctx, chromedp.Navigate(g.base+"/account/security?lang=en"), chromedp.WaitVisible("#logout")); err != nil {
		t.Fatal(err)
	}
	signOut(t, ctx)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(link),
		chromedp.WaitVisible("#set-password-form"),
		chromedp.SetValue("#password", "carol password 2"),
		chromedp.SetValue("#password_confirm", "carol password 2"),
	); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, "#error", chromedp.Click("#submit"))
}
