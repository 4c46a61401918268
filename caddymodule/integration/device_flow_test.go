package integration

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/api"
)

// deviceGlobal polls every second so the flow tests are quick.
const deviceGlobal = "device_interval 1s"

// startDeviceLogin is the CLI side: golang.org/x/oauth2 asks for a code
// and polls in the background; the channel yields the outcome.
func startDeviceLogin(t *testing.T, g *gateway, opts ...oauth2.AuthCodeOption) (*oauth2.DeviceAuthResponse, <-chan deviceOutcome) {
	t.Helper()
	cfg := g.oauthConfig()
	dev, err := cfg.DeviceAuth(context.Background(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan deviceOutcome, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		tok, err := cfg.DeviceAccessToken(ctx, dev)
		out <- deviceOutcome{tok, err}
	}()
	return dev, out
}

type deviceOutcome struct {
	tok *oauth2.Token
	err error
}

func wait(t *testing.T, ch <-chan deviceOutcome) deviceOutcome {
	t.Helper()
	select {
	case o := <-ch:
		return o
	case <-time.After(time.Minute):
		t.Fatal("the client never finished polling")
	}
	return deviceOutcome{}
}

// TestDeviceFlowApprove: a third-party client (golang.org/x/oauth2) asks
// for papers:read and papers:write; the signed-in user approves through
// the HTTP forms with only papers:read; the client receives a PAT with
// exactly that scope, usable once, and the device code then is spent.
func TestDeviceFlowApprove(t *testing.T) {
	g := newSessionGateway(t, deviceGlobal)
	g.addUserWithPassword("alice", "alice password 1")
	dev, done := startDeviceLogin(t, g,
		oauth2.SetAuthURLParam("scope", "papers:read papers:write"),
		oauth2.SetAuthURLParam("token_name", "laptop-cli"),
		oauth2.SetAuthURLParam("expires_days", "30"))

	browser := g.cookieClient()
	browser.mustLogin("alice", "alice password 1")
	resp, page := browser.do("GET", "/device?user_code="+url.QueryEscape(dev.UserCode), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("device page: %d %s", resp.StatusCode, page)
	}
	for _, want := range []string{"gatehouse-cli", "127.0.0.1", "Go-http-client", "Only approve if you started this", `value="laptop-cli"`, `value="30"`, `id="approve"`, `id="deny"`} {
		if !strings.Contains(page, want) {
			t.Errorf("device page lacks %q", want)
		}
	}
	if !strings.Contains(page, `value="papers:read" checked`) || strings.Contains(page, `value="wiki:read" checked`) {
		t.Errorf("the requested scopes should be ticked, and only those")
	}

	resp, page = browser.do("POST", "/device", url.Values{
		"user_code": {strings.ToLower(strings.ReplaceAll(dev.UserCode, "-", ""))}, "action": {"approve"},
		"token_name": {"narrowed"}, "expires_days": {"7"}, "scope": {"papers:read"},
	})
	if resp.StatusCode != 200 || !strings.Contains(page, "return to your terminal") {
		t.Fatalf("approve: %d %s", resp.StatusCode, between(page, `id="error"`, "</p>"))
	}
	out := wait(t, done)
	if out.err != nil {
		t.Fatalf("client: %v", out.err)
	}
	if out.tok.TokenType != "Bearer" || out.tok.Extra("scope") != "papers:read" || time.Until(out.tok.Expiry) > 8*24*time.Hour {
		t.Errorf("token answer: type %q scope %v expiry %v", out.tok.TokenType, out.tok.Extra("scope"), out.tok.Expiry)
	}
	bearer := "Authorization: Bearer " + out.tok.AccessToken
	if resp, _ := g.get("/api/papers/1", bearer); resp.StatusCode != 200 {
		t.Errorf("the device's PAT on a read route: %d", resp.StatusCode)
	}
	if resp, _ := g.do("POST", "/api/papers/1", nil, bearer); resp.StatusCode != 403 {
		t.Errorf("a scope narrowed away was granted: %d", resp.StatusCode)
	}
	var tokens []api.TokenInfo
	g.admin("GET", "/gatehouse/tokens?user=alice", nil, &tokens)
	if len(tokens) != 1 || tokens[0].Name != "narrowed" || tokens[0].CreatedVia != "device" {
		t.Errorf("tokens: %+v", tokens)
	}

	// The device code yields its token once.
	code, body := g.postForm("/api/oauth/device/token", url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {dev.DeviceCode}, "client_id": {"gatehouse-cli"},
	})
	if code != 400 || body["error"] != "invalid_grant" {
		t.Errorf("reusing the device code: %d %v", code, body)
	}
	// The user code is spent too.
	if resp, page := browser.do("GET", "/device?user_code="+dev.UserCode, nil); resp.StatusCode != 409 || !strings.Contains(page, "already used") {
		t.Errorf("a used user code: %d", resp.StatusCode)
	}
	if actions := g.auditActions("alice"); countOf(actions, "device.approved") != 1 {
		t.Errorf("audit: %v", actions)
	}
	g.assertNotLogged(out.tok.AccessToken, dev.DeviceCode, dev.UserCode, strings.ReplaceAll(dev.UserCode, "-", ""))
}

// TestDeviceFlowDeny: Deny reaches the client as access_denied and mints
// nothing.
func TestDeviceFlowDeny(t *testing.T) {
	g := newSessionGateway(t, deviceGlobal)
	g.addUserWithPassword("bob", "bob password 12")
	dev, done := startDeviceLogin(t, g)
	browser := g.cookieClient()
	browser.mustLogin("bob", "bob password 12")
	resp, page := browser.do("POST", "/device", url.Values{"user_code": {dev.UserCode}, "action": {"deny"}})
	if resp.StatusCode != 200 || !strings.Contains(page, "Request denied") {
		t.Fatalf("deny: %d %s", resp.StatusCode, page)
	}
	var re *oauth2.RetrieveError
	if out := wait(t, done); !errors.As(out.err, &re) || re.ErrorCode != "access_denied" {
		t.Fatalf("client: %v", out.err)
	}
	var tokens []any
	g.admin("GET", "/gatehouse/tokens?user=bob", nil, &tokens)
	if len(tokens) != 0 {
		t.Errorf("a denied request minted %d tokens", len(tokens))
	}
}

// TestDevicePageLogsInFirst: the deep link sends a browser without a
// session to log in and back to the same request.
func TestDevicePageLogsInFirst(t *testing.T) {
	g := newSessionGateway(t, deviceGlobal)
	g.addUserWithPassword("cleo", "cleo password 1")
	dev, _ := startDeviceLogin(t, g)
	browser := g.cookieClient()
	link := "/device?user_code=" + url.QueryEscape(dev.UserCode)
	resp, _ := browser.do("GET", link, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next="+url.QueryEscape(link) {
		t.Fatalf("without a session: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = browser.login("cleo", "cleo password 1", "next", link)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != link {
		t.Fatalf("after login: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// A PAT is not a browser session: it cannot approve devices.
	g.addUser("dan")
	tok := g.mint("dan", 1, "papers:read")
	if resp, _ := g.do("POST", "/device", strings.NewReader("user_code="+dev.UserCode+"&action=approve"),
		"Authorization: Bearer "+tok, "Content-Type: application/x-www-form-urlencoded"); resp.StatusCode != 403 {
		t.Errorf("a PAT approving a device: %d", resp.StatusCode)
	}
}

// TestDeviceScopesNeverBeyondUser: whatever the client asked for and the
// form posted, a token never gets a scope its owner does not hold.
func TestDeviceScopesNeverBeyondUser(t *testing.T) {
	g := newSessionGateway(t, deviceGlobal)
	g.admin("POST", "/gatehouse/users", map[string]any{"login": "fay", "scopes": []string{"papers:read"}}, nil)
	g.setPassword("fay", "fay password 12")
	dev, done := startDeviceLogin(t, g, oauth2.SetAuthURLParam("scope", "papers:read papers:write"))
	browser := g.cookieClient()
	browser.mustLogin("fay", "fay password 12")
	_, page := browser.do("GET", "/device?user_code="+dev.UserCode, nil)
	if strings.Contains(page, `value="papers:write"`) || !strings.Contains(page, "papers:write") {
		t.Errorf("the form must not offer papers:write, and must say it was asked for and will not be granted")
	}
	resp, _ := browser.do("POST", "/device", url.Values{
		"user_code": {dev.UserCode}, "action": {"approve"}, "token_name": {"forged"}, "expires_days": {"5"},
		"scope": {"papers:read", "papers:write"},
	})
	if resp.StatusCode != 400 {
		t.Fatalf("a forged scope: %d", resp.StatusCode)
	}
	// Still pending: the honest approval then works, with papers:read only.
	resp, _ = browser.do("POST", "/device", url.Values{
		"user_code": {dev.UserCode}, "action": {"approve"}, "token_name": {"honest"}, "expires_days": {"5"}, "scope": {"papers:read"},
	})
	if resp.StatusCode != 200 {
		t.Fatalf("honest approval: %d", resp.StatusCode)
	}
	if out := wait(t, done); out.err != nil || out.tok.Extra("scope") != "papers:read" {
		t.Fatalf("client: %v %v", out.err, out.tok)
	}
}

// TestDeviceCodeGuessing: a handful of wrong codes, then a wait; unknown,
// expired and used codes say so plainly.
func TestDeviceCodeGuessing(t *testing.T) {
	g := newSessionGateway(t, deviceGlobal)
	g.addUserWithPassword("gus", "gus password 12")
	browser := g.cookieClient()
	browser.mustLogin("gus", "gus password 12")
	for i := range 5 {
		resp, page := browser.do("GET", "/device?user_code=BBBB-BBBB", nil)
		if resp.StatusCode != 404 || !strings.Contains(page, "not valid") {
			t.Fatalf("wrong code %d: %d", i+1, resp.StatusCode)
		}
	}
	// The fifth wrong code used up the free ones and locked the session.
	resp, page := browser.do("GET", "/device?user_code=BBBB-BBBD", nil)
	if resp.StatusCode != 429 || !strings.Contains(page, "Too many wrong codes") {
		t.Fatalf("after five wrong codes: %d", resp.StatusCode)
	}
	// Even a right code waits: the lock is on the guesser, not the code.
	dev, _ := startDeviceLogin(t, g)
	if resp, _ := browser.do("GET", "/device?user_code="+dev.UserCode, nil); resp.StatusCode != 429 {
		t.Errorf("right code while locked: %d", resp.StatusCode)
	}
}

// TestBrowserDeviceFlow drives the approval page in a real browser: open
// the deep link, log in, untick a scope, approve; the client side gets a
// PAT holding exactly the narrowed scopes.
func TestBrowserDeviceFlow(t *testing.T) {
	ctx := startChromium(t)
	g := newSessionGateway(t, deviceGlobal)
	g.addUserWithPassword("hana", "hana password 1")
	dev, done := startDeviceLogin(t, g, oauth2.SetAuthURLParam("scope", "papers:read papers:write wiki:read"))

	err := chromedp.Do(ctx,
		chromedp.Navigate(dev.VerificationURIComplete),
		chromedp.WaitVisible("#login"),
		chromedp.SendKeys("#login", "hana"),
		chromedp.SendKeys("#password", "hana password 1"),
		chromedp.Click("#submit"),
		chromedp.WaitVisible("#approve"),
	)
	if err != nil {
		t.Fatalf("deep link and login: %v", err)
	}
	screenshot(t, ctx, "device-confirm")
	if warning := run(t, ctx, chromedp.Text("#warning")); !strings.Contains(warning, "Only approve") {
		t.Errorf("warning: %q", warning)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(`input[value="papers:write"]`), // narrow: untick papers:write
		chromedp.Click("#approve"),
		chromedp.WaitVisible("#message"),
	)
	if err != nil {
		t.Fatalf("approving: %v", err)
	}
	if text := run(t, ctx, chromedp.Text("#message")); !strings.Contains(text, "return to your terminal") {
		t.Errorf("after approval: %q", text)
	}
	screenshot(t, ctx, "device-done")
	out := wait(t, done)
	if out.err != nil {
		t.Fatal(out.err)
	}
	if got := out.tok.Extra("scope"); got != "wiki:read papers:read" {
		t.Errorf("token scopes %q, want the narrowed wiki:read papers:read (catalog order)", got)
	}

	// The same page in Chinese.
	dev2, _ := startDeviceLogin(t, g)
	err = chromedp.Do(ctx, chromedp.Navigate(dev2.VerificationURIComplete+"&lang=zh"), chromedp.WaitVisible("#approve"))
	if err != nil {
		t.Fatal(err)
	}
	if label := run(t, ctx, chromedp.Text("#approve")); label != "批准" {
		t.Errorf("approve button in Chinese: %q", label)
	}
	screenshot(t, ctx, "device-zh")
}

// between returns the text of s from after start up to end, for short
// failure messages about a page.
func between(s, start, end string) string {
	_, rest, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	inner, _, _ := strings.Cut(rest, end)
	return inner
}
