package integration

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"
)

// The account pages and the admin console, driven through a real
// Chromium against the real Caddy: every step is what a person does, and
// what the page shows is read back from the DOM.

// browserLogin signs the browser in through the login form (code is the
// one-time or recovery code, "" for none) and waits for the page after.
func browserLogin(t *testing.T, ctx context.Context, g *gateway, next, login, pw, code, waitFor string) {
	t.Helper()
	actions := []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(g.base + "/login?next=" + url.QueryEscape(next)),
		chromedp.WaitVisible("#login"),
		chromedp.SetValue("#login", login),
		chromedp.SetValue("#password", pw),
	}
	if code != "" {
		actions = append(actions, chromedp.SetValue("#totp", code))
	}
	step, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for i, a := range actions {
		if err := chromedp.Do(step, a); err != nil {
			t.Fatalf("signing in as %s, step %d: %v", login, i, err)
		}
	}
	submit(t, ctx, waitFor, chromedp.Click("#submit"))
}

func signOut(t *testing.T, ctx context.Context) {
	t.Helper()
	submit(t, ctx, "#login", chromedp.Click("#logout"))
}

// submit runs steps that end in a navigation (a form posted, a link
// followed), waits until the old document is gone and the new one has
// loaded, then for wait on it: a WaitVisible alone could match the page
// before the navigation.
func submit(t *testing.T, ctx context.Context, wait string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	step, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	err := chromedp.Do(step, append([]chromedp.Action[chromedp.Void]{chromedp.Evaluate[chromedp.Void](`window.__gatehouseOld = true`)}, steps...)...)
	// Poll the new document (the old one's context dies on the way, so
	// errors mean "not yet"), as chromedp's own waits poll.
	for err == nil {
		loaded, perr := chromedp.Run(step, chromedp.Evaluate[bool](`!window.__gatehouseOld && document.readyState === "complete"`))
		if perr == nil && loaded {
			break
		}
		if step.Err() != nil {
			err = step.Err()
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err == nil {
		err = chromedp.Do(step, chromedp.WaitVisible(wait))
	}
	if err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		html, _ := chromedp.Run(ctx, chromedp.OuterHTML("main"))
		t.Fatalf("waiting for %s: %v (at %s: %.1500s)", wait, err, loc, html)
	}
}

// TestBrowserSecurityPage: change the password (the other session ends),
// enrol TOTP by reading the seed off the page and typing a computed
// code, keep the recovery codes, sign in with one of them (once), and
// turn TOTP off with a fresh code; the page, the seed and the recovery
// codes in Chinese.
func TestBrowserSecurityPage(t *testing.T) {
	ctx := startChromium(t)
	g := newSessionGateway(t, "")
	g.addUserWithPassword("alice", "alice password 1")
	g.addUserWithPassword("bob", "bob password 1")
	other := g.cookieClient()
	other.mustLogin("alice", "alice password 1")

	browserLogin(t, ctx, g, "/account/security", "alice", "alice password 1", "", "#password-form")
	screenshot(t, ctx, "security-en")

	// Password: a wrong current password is refused on the page.
	if err := chromedp.Do(ctx,
		chromedp.SetValue("#current", "not my password"),
		chromedp.SetValue("#new", "alice password 2"),
		chromedp.SetValue("#confirm", "alice password 2"),
	); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, "#error", chromedp.Click("#change-password"))
	if msg := run(t, ctx, chromedp.Text("#error")); !strings.Contains(msg, "current password is not right") {
		t.Errorf("error %q", msg)
	}
	if err := chromedp.Do(ctx,
		chromedp.SetValue("#current", "alice password 1"),
		chromedp.SetValue("#new", "alice password 2"),
		chromedp.SetValue("#confirm", "alice password 2"),
	); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, "#notice", chromedp.Click("#change-password"))
	if msg := run(t, ctx, chromedp.Text("#notice")); !strings.Contains(msg, "1 other sessions were signed out") {
		t.Errorf("notice %q", msg)
	}
	if resp, _ := other.do("GET", "/api/whoami", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the other session after the change: %d", resp.StatusCode)
	}

	// TOTP: scan (read the seed), a wrong code, the right one.
	submit(t, ctx, "#totp-secret", chromedp.Click("#totp-begin"))
	if src := run(t, ctx, chromedp.AttributeValue("#totp-qr", "src")); !strings.HasPrefix(src.Value, "data:image/png;base64,") {
		t.Errorf("QR code src %.40q", src.Value)
	}
	// The image really rendered: the CSP let the data: URL load.
	if w := run(t, ctx, chromedp.Evaluate[int](`document.getElementById("totp-qr").naturalWidth`)); w != 200 {
		t.Errorf("QR code natural width %d", w)
	}
	screenshot(t, ctx, "security-totp-en")
	secret := strings.TrimSpace(run(t, ctx, chromedp.Text("#totp-secret")))
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatalf("seed %q: %v", secret, err)
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	// SetValue, not SendKeys: these fields are below the fold, where
	// typing into them with chromedp sometimes never starts.
	submit(t, ctx, "#error", chromedp.SetValue("#totp-code", wrong), chromedp.Click("#totp-confirm"))
	submit(t, ctx, "#recovery-codes", chromedp.SetValue("#totp-code", code), chromedp.Click("#totp-confirm"))
	codes := run(t, ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#recovery-codes code")).map(c => c.textContent)`))
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes", len(codes))
	}
	screenshot(t, ctx, "security-recovery-en")
	g.assertNotLogged(append([]string{secret}, codes...)...)

	// Sign in again: without a code refused, with a recovery code once.
	signOut(t, ctx)
	browserLogin(t, ctx, g, "/account/security", "alice", "alice password 2", "", "#error")
	browserLogin(t, ctx, g, "/account/security", "alice", "alice password 2", codes[0], "#totp-status")
	if st := run(t, ctx, chromedp.Text("#totp-status")); !strings.Contains(st, "Recovery codes left: 9") {
		t.Errorf("status %q", st)
	}
	signOut(t, ctx)
	browserLogin(t, ctx, g, "/account/security", "alice", "alice password 2", codes[0], "#error")
	browserLogin(t, ctx, g, "/account/security", "alice", "alice password 2", codes[1], "#totp-status")

	// The page in Chinese.
	if err := chromedp.Do(ctx, chromedp.Navigate(g.base+"/account/security?lang=zh"), chromedp.WaitVisible("#totp-status")); err != nil {
		t.Fatal(err)
	}
	if h := run(t, ctx, chromedp.Text("h1")); h != "安全" {
		t.Errorf("zh heading %q", h)
	}
	screenshot(t, ctx, "security-zh")
	if err := chromedp.Do(ctx, chromedp.Navigate(g.base+"/account/security?lang=en"), chromedp.WaitVisible("#totp-status")); err != nil {
		t.Fatal(err)
	}

	// Off with a fresh code (the next step: the current one was used).
	later, _ := totp.GenerateCode(secret, time.Now().Add(30*time.Second))
	submit(t, ctx, "#notice", chromedp.SetValue("#off-code", later), chromedp.Click("#totp-off"))
	if st := run(t, ctx, chromedp.Text("#totp-status")); !strings.Contains(st, "off") {
		t.Errorf("after turning off: %q", st)
	}
	signOut(t, ctx)
	browserLogin(t, ctx, g, "/account/security", "alice", "alice password 2", "", "#totp-begin")

	// The enrolment in Chinese, by bob: alice's codes are spent up to the
	// next time step, and a code is good once.
	signOut(t, ctx)
	browserLogin(t, ctx, g, "/account/security?lang=zh", "bob", "bob password 1", "", "#totp-begin")
	submit(t, ctx, "#totp-secret", chromedp.Click("#totp-begin"))
	if h := run(t, ctx, chromedp.Text("h1")); h != "安全" {
		t.Errorf("zh heading %q", h)
	}
	if w := run(t, ctx, chromedp.Evaluate[int](`document.getElementById("totp-qr").naturalWidth`)); w != 200 {
		t.Errorf("zh QR code natural width %d", w)
	}
	screenshot(t, ctx, "security-totp-zh")
	bobSecret := strings.TrimSpace(run(t, ctx, chromedp.Text("#totp-secret")))
	bobCode, err := totp.GenerateCode(bobSecret, time.Now())
	if err != nil {
		t.Fatalf("seed %q: %v", bobSecret, err)
	}
	submit(t, ctx, "#recovery-codes", chromedp.SetValue("#totp-code", bobCode), chromedp.Click("#totp-confirm"))
	bobCodes := run(t, ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#recovery-codes code")).map(c => c.textContent)`))
	if len(bobCodes) != 10 {
		t.Fatalf("%d recovery codes in zh", len(bobCodes))
	}
	if n := run(t, ctx, chromedp.Text("#notice")); n != "两步验证已开启。" {
		t.Errorf("zh notice %q", n)
	}
	screenshot(t, ctx, "security-recovery-zh")
	g.assertNotLogged(append([]string{bobSecret}, bobCodes...)...)
}

// TestBrowserSessionsPage: the list shows this browser and a CLI login,
// this one marked; "sign out everywhere else" ends the CLI's session and
// keeps this one.
func TestBrowserSessionsPage(t *testing.T) {
	ctx := startChromium(t)
	g := newSessionGateway(t, "")
	g.addUserWithPassword("alice", "alice password 1")
	cli := g.cookieClient()
	cli.mustLogin("alice", "alice password 1")
	resp, body := g.do("POST", "/api/session", strings.NewReader(`{"login":"alice","password":"alice password 1"}`), "Content-Type: application/json", "User-Agent: gatehouse-cli/1.0")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("CLI login: %d %s", resp.StatusCode, body)
	}

	browserLogin(t, ctx, g, "/account/sessions", "alice", "alice password 1", "", "#sessions")
	rows := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#sessions tbody tr.status-active").length`))
	if rows != 3 {
		t.Errorf("%d active sessions listed, want 3", rows)
	}
	if ua := run(t, ctx, chromedp.Text("#sessions")); !strings.Contains(ua, "gatehouse-cli/1.0") || !strings.Contains(ua, "Command line") {
		t.Errorf("the CLI session is not shown with its user agent: %q", ua)
	}
	if mine := run(t, ctx, chromedp.Evaluate[string](`document.querySelector("tr.current #this-session") ? document.querySelector("tr.current").querySelector("td.agent").textContent : ""`)); !strings.Contains(mine, "Chrome") {
		t.Errorf("this session is not marked, or not Chrome's: %q", mine)
	}
	screenshot(t, ctx, "sessions-en")
	submit(t, ctx, "#notice", chromedp.Click("#sign-out-others"))
	if n := run(t, ctx, chromedp.Text("#notice")); !strings.Contains(n, "2 sessions signed out") {
		t.Errorf("notice %q", n)
	}
	if rows := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#sessions tbody tr.status-active").length`)); rows != 1 {
		t.Errorf("%d active sessions after, want 1", rows)
	}
	if resp, _ := cli.do("GET", "/api/whoami", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the other browser session: %d", resp.StatusCode)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(g.base+"/account/sessions?lang=zh"), chromedp.WaitVisible("#sessions")); err != nil {
		t.Fatalf("this session ended too: %v", err)
	}
	screenshot(t, ctx, "sessions-zh")
}
