package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// findChromium returns Debian's chromium (or $GATEHOUSE_CHROMIUM). Without
// one the test is skipped, unless GATEHOUSE_REQUIRE_BROWSER=1 (CI sets it),
// where a missing browser is a failure rather than a silent skip.
func findChromium(t *testing.T) string {
	t.Helper()
	candidates := []string{os.Getenv("GATEHOUSE_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"}
	if p, err := exec.LookPath("chromium"); err == nil {
		candidates = append(candidates, p)
	}
	for _, p := range candidates {
		if p == "" {
			continue
		}
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	if os.Getenv("GATEHOUSE_REQUIRE_BROWSER") == "1" {
		t.Fatal("chromium not found and GATEHOUSE_REQUIRE_BROWSER=1 (apt-get install -y chromium)")
	}
	browserSkips.Add(1)
	t.Skip("chromium not found; install it (apt-get install -y chromium) or set GATEHOUSE_CHROMIUM")
	return ""
}

// browserSkips counts the browser tests skipped for want of a browser;
// TestMain reports it once at the end, where it is not lost among the
// other tests' output.
var browserSkips atomic.Int32

// go test ./... shows nothing of a package that passed, so the count also
// goes to the terminal when there is one.
func reportBrowserSkips() {
	n := browserSkips.Load()
	if n == 0 {
		return
	}
	line := fmt.Sprintf("SKIPPED %d browser test(s): chromium not found; install it (apt-get install -y chromium) or set GATEHOUSE_CHROMIUM\n", n)
	fmt.Print(line)
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		fmt.Fprint(tty, "gatehouse integration: "+line)
		tty.Close()
	}
}

// startChromium starts a headless chromium with a fresh profile for this
// test and returns its tab's context; everything stops at test cleanup.
func startChromium(t *testing.T) context.Context {
	t.Helper()
	path := findChromium(t)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// screenshot saves the page as a PNG in $GATEHOUSE_SCREENSHOTS, if set,
// for a person to look at: the README's docs/screenshots folder is made
// with it.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("GATEHOUSE_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	// A relative dir is taken from the package's directory, where go
	// test runs: say so rather than lose the picture without a word.
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Logf("screenshot %s: %v", name, err)
	}
}

// run runs one action and returns its value, failing the test on error.
func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestBrowserPATPage is the user's path through a real browser: open the
// PAT page, get sent to log in, create a token with some scopes, read it
// once, copy it, use it against the proxy, revoke it on the page, see it
// refused; then the same page in Chinese.
func TestBrowserPATPage(t *testing.T) {
	ctx := startChromium(t)
	g := newSessionGateway(t, "pat_max_days 60")
	g.addUserWithPassword("alice", "alice password 1")

	// Not signed in: the page sends the browser to the login form.
	if err := chromedp.Do(ctx, chromedp.Navigate(g.base+"/pat"), chromedp.WaitVisible("#login")); err != nil {
		t.Fatal(err)
	}
	if loc := run(t, ctx, chromedp.Location()); !strings.HasSuffix(loc, "/login?next=%2Fpat") {
		t.Fatalf("redirected to %s", loc)
	}
	screenshot(t, ctx, "login")
	err := chromedp.Do(ctx,
		chromedp.SendKeys("#login", "alice"),
		chromedp.SendKeys("#password", "alice password 1"),
		chromedp.Click("#submit"),
		chromedp.WaitVisible("#create-form"),
	)
	if err != nil {
		t.Fatalf("logging in: %v", err)
	}
	if loc := run(t, ctx, chromedp.Location()); !strings.HasSuffix(loc, "/pat") {
		t.Fatalf("after login at %s", loc)
	}
	if who := run(t, ctx, chromedp.Text("#signed-in")); !strings.Contains(who, "alice") {
		t.Errorf("header says %q", who)
	}

	// The form starts with every scope the user holds ticked, 60 days max.
	checked := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('input[name=scope]:checked').length`))
	if checked != 5 {
		t.Errorf("%d scopes ticked by default, want all 5", checked)
	}
	if max := run(t, ctx, chromedp.AttributeValue("#expires_days", "max")); max.Value != "60" {
		t.Errorf("expiry max %q", max.Value)
	}
	err = chromedp.Do(ctx,
		chromedp.SetValue("#name", "browser token"),
		chromedp.SetValue("#expires_days", "30"),
		chromedp.Click(`input[value="wiki:write"]`),
		chromedp.Click(`input[value="papers:write"]`),
		chromedp.Click("#create"),
		chromedp.WaitVisible("#new-token"),
	)
	if err != nil {
		t.Fatalf("creating a token: %v", err)
	}
	tok := strings.TrimSpace(run(t, ctx, chromedp.Text("#new-token")))
	if !strings.HasPrefix(tok, "qat_") || len(tok) != len("qat_")+36 {
		t.Fatalf("token shown: %q", tok)
	}
	screenshot(t, ctx, "pat-created")

	// Copy button: the clipboard gets the token.
	if _, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "clipboard-read"}, Setting: browser.PermissionSettingGranted, Origin: g.base,
	}); err != nil {
		t.Logf("granting clipboard-read: %v", err)
	}
	_, _ = chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "clipboard-write", AllowWithoutSanitization: true}, Setting: browser.PermissionSettingGranted, Origin: g.base,
	})
	if err := chromedp.Do(ctx, chromedp.Click("#copy"), chromedp.WaitVisible("#copied")); err != nil {
		t.Fatalf("copy button: %v", err)
	}
	if clip, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise)); err != nil {
		t.Logf("reading the clipboard back: %v", err)
	} else if clip != tok {
		t.Errorf("clipboard holds %q", clip)
	}

	// The token works against the proxy with the scopes chosen.
	if resp, _ := g.get("/api/papers/1", "Authorization: Bearer "+tok); resp.StatusCode != 200 {
		t.Fatalf("the new token on the proxy: %d", resp.StatusCode)
	}
	if resp, _ := g.do("POST", "/api/papers/1", nil, "Authorization: Bearer "+tok); resp.StatusCode != 403 {
		t.Errorf("an unticked scope was granted: %d", resp.StatusCode)
	}

	// Shown once: a reload lists the token by hint only.
	if err := chromedp.Do(ctx, chromedp.Navigate(g.base+"/pat"), chromedp.WaitVisible("#tokens")); err != nil {
		t.Fatal(err)
	}
	html := run(t, ctx, chromedp.OuterHTML("html"))
	if strings.Contains(html, tok) || strings.Contains(html, `id="new-token"`) {
		t.Fatal("the token is shown again")
	}
	if !strings.Contains(html, tok[:8]+"****") || !strings.Contains(html, "browser token") {
		t.Error("the token's row is missing")
	}
	rowID := run(t, ctx, chromedp.Evaluate[string](`document.querySelector('#tokens tbody tr').id`))
	tokID := strings.TrimPrefix(rowID, "token-")
	lastUsed := run(t, ctx, chromedp.Text("#"+rowID+" td:nth-child(6)"))
	if !strings.Contains(lastUsed, "127.0.0.1") {
		t.Errorf("last used column %q lacks the client IP", lastUsed)
	}
	screenshot(t, ctx, "pat-list")

	// Revoke on the page; the proxy refuses the token.
	if err := chromedp.Do(ctx, chromedp.Click("#revoke-"+tokID), chromedp.WaitVisible("#notice")); err != nil {
		t.Fatalf("revoking: %v", err)
	}
	// Ended tokens are collapsed behind a link, not listed forever.
	if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('#`+rowID+`').length`)); n != 0 {
		t.Error("the revoked token is still listed by default")
	}
	if err := chromedp.Do(ctx, chromedp.Click("#show-all"), chromedp.WaitVisible("#"+rowID)); err != nil {
		t.Fatalf("showing ended tokens: %v", err)
	}
	if status := run(t, ctx, chromedp.Text("#"+rowID+" td:nth-child(7)")); status != "Revoked" {
		t.Errorf("status after revoke %q", status)
	}
	if resp, _ := g.get("/api/papers/1", "Authorization: Bearer "+tok); resp.StatusCode != 401 {
		t.Errorf("the revoked token on the proxy: %d", resp.StatusCode)
	}

	// The same page in Simplified Chinese, remembered after ?lang=zh.
	if err := chromedp.Do(ctx, chromedp.Navigate(g.base+"/pat?lang=zh"), chromedp.WaitVisible("#show-all")); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(g.base+"/pat?show=all"), chromedp.WaitVisible("#tokens")); err != nil {
		t.Fatal(err)
	}
	for sel, want := range map[string]string{"h1": "个人访问令牌", "#create": "创建令牌", "#logout": "退出登录", "#" + rowID + " td:nth-child(7)": "已撤销"} {
		if got := strings.TrimSpace(run(t, ctx, chromedp.Text(sel))); got != want {
			t.Errorf("%s: %q, want %q", sel, got, want)
		}
	}
	if lang := run(t, ctx, chromedp.AttributeValue("html", "lang")); lang.Value != "zh-CN" {
		t.Errorf("html lang %q", lang.Value)
	}
	screenshot(t, ctx, "pat-zh")

	cookies, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{g.base}})
	if err != nil {
		t.Fatal(err)
	}
	var session string
	for _, c := range cookies.Cookies {
		if c.Name == "gatehouse_session" {
			session = c.Value
			if !c.HTTPOnly || c.SameSite != network.CookieSameSiteLax {
				t.Errorf("session cookie in the browser: %+v", c)
			}
		}
	}
	if session == "" {
		t.Error("the browser holds no session cookie")
	}

	// Sign out from the header; the login page is in Chinese too.
	if err := chromedp.Do(ctx, chromedp.Click("#logout"), chromedp.WaitVisible("#login")); err != nil {
		t.Fatalf("signing out: %v", err)
	}
	if h1 := run(t, ctx, chromedp.Text("h1")); h1 != "登录" {
		t.Errorf("login page heading %q", h1)
	}
	screenshot(t, ctx, "login-zh")
	if resp, _ := g.get("/api/whoami", "Authorization: Bearer "+session); resp.StatusCode != 401 {
		t.Errorf("the session after signing out: %d", resp.StatusCode)
	}
	g.assertNotLogged("alice password 1", tok, session)
}

// TestBrowserLoginFailureInChinese checks the failure message a Chinese
// browser (Accept-Language) sees.
func TestBrowserLoginFailureInChinese(t *testing.T) {
	ctx := startChromium(t)
	g := newSessionGateway(t, "")
	g.addUserWithPassword("alice", "alice password 1")
	if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"},
	}); err != nil {
		t.Fatal(err)
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate(g.base+"/login"),
		chromedp.WaitVisible("#login"),
		chromedp.SendKeys("#login", "alice"),
		chromedp.SendKeys("#password", "wrong password"),
		chromedp.Click("#submit"),
		chromedp.WaitVisible("#error"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if msg := run(t, ctx, chromedp.Text("#error")); msg != "用户名、密码或一次性验证码不正确。" {
		t.Errorf("error message %q", msg)
	}
	if v := run(t, ctx, chromedp.Value("#password")); v != "" {
		t.Error("the password field was filled back in")
	}
	screenshot(t, ctx, "login-failed-zh")
}
