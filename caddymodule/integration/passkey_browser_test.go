package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// TestBrowserPasskey: with Chrome's virtual authenticator (the DevTools
// WebAuthn domain), register a named passkey on the security page, sign
// out, sign in with it from the login page without typing a login, see
// its last use, and remove it. The site is served as localhost: a
// passkey's relying party must be a domain, not an IP address.
func TestBrowserPasskey(t *testing.T) {
	ctx := startChromium(t)
	site := strings.ReplaceAll(sessionSite, "\n", "\n\t\t")
	g := newGateway(t, setup{site: sessionSite, extra: fmt.Sprintf(`http://localhost:%d {
	gatehouse {
		%s
	}
	reverse_proxy {upstream}
}
`, httpPort, site)})
	g.dumpLogOnFailure()
	g.addUserWithPassword("alice", "alice password 1")
	base := fmt.Sprintf("http://localhost:%d", httpPort)

	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatalf("WebAuthn domain: %v", err)
	}
	auth, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
		Protocol: webauthn.AuthenticatorProtocolCtap2, Transport: webauthn.AuthenticatorTransportInternal,
		HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
	}})
	if err != nil {
		t.Fatalf("virtual authenticator: %v", err)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/login?next=/account/security"), chromedp.WaitVisible("#login"),
		chromedp.SetValue("#login", "alice"), chromedp.SetValue("#password", "alice password 1")); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, "#passkey-form", chromedp.Click("#submit"))
	if err := chromedp.Do(ctx, chromedp.SetValue("#passkey-name", "laptop")); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click("#passkey-add")); err != nil {
		t.Fatal(err)
	}
	passkeyWait(t, ctx, g, "#passkeys", "#passkey-error")
	if rows := run(t, ctx, chromedp.Text("#passkeys")); !strings.Contains(rows, "laptop") || !strings.Contains(rows, "Never") {
		t.Errorf("passkeys listed: %q", rows)
	}
	screenshot(t, ctx, "security-passkeys-en")
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/account/security?lang=zh"), chromedp.WaitVisible("#passkeys")); err != nil {
		t.Fatal(err)
	}
	if rows := run(t, ctx, chromedp.Text("#passkeys")); !strings.Contains(rows, "laptop") || !strings.Contains(rows, "从未") {
		t.Errorf("passkeys listed in zh: %q", rows)
	}
	screenshot(t, ctx, "security-passkeys-zh")
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/account/security?lang=en"), chromedp.WaitVisible("#passkeys")); err != nil {
		t.Fatal(err)
	}
	creds, err := chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: auth.AuthenticatorID})
	if err != nil {
		t.Fatal(err)
	}
	if len(creds.Credentials) != 1 || !creds.Credentials[0].IsResidentCredential || creds.Credentials[0].RpID != "localhost" {
		t.Errorf("authenticator holds %+v", creds.Credentials)
	}

	// Sign out; sign in with the passkey alone (the page in Chinese first).
	signOut(t, ctx)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/login?next=/account/security&lang=zh"), chromedp.WaitVisible("#passkey-login")); err != nil {
		t.Fatal(err)
	}
	if b := run(t, ctx, chromedp.Text("#passkey-login")); b != "使用通行密钥登录" {
		t.Errorf("zh passkey button %q", b)
	}
	screenshot(t, ctx, "login-passkey-zh")
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/login?next=/account/security&lang=en"), chromedp.WaitVisible("#passkey-login")); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "login-passkey-en")
	if err := chromedp.Do(ctx, chromedp.Click("#passkey-login")); err != nil {
		t.Fatal(err)
	}
	passkeyWait(t, ctx, g, "#passkeys", "#passkey-login-error")
	if who := run(t, ctx, chromedp.Text("#signed-in")); !strings.Contains(who, "alice") {
		t.Errorf("signed in as %q", who)
	}
	if rows := run(t, ctx, chromedp.Text("#passkeys")); strings.Contains(rows, "Never") {
		t.Errorf("last use not recorded: %q", rows)
	}
	if acts := g.auditActions("alice"); countOf(acts, "login") < 2 {
		t.Errorf("audit: %v", acts)
	}

	// With TOTP on, the passkey stands in for the code after the password.
	if code := g.admin("POST", "/gatehouse/users/alice/totp", struct{}{}, nil); code != 200 {
		t.Fatalf("enabling TOTP: %d", code)
	}
	// The step in Chinese first: it is the answer to the password's POST,
	// so the password is sent again in English.
	signOut(t, ctx)
	for _, lang := range []string{"zh", "en"} {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/login?next=/account/security&lang="+lang), chromedp.WaitVisible("#login"),
			chromedp.SetValue("#login", "alice"), chromedp.SetValue("#password", "alice password 1")); err != nil {
			t.Fatal(err)
		}
		submit(t, ctx, "#passkey-second", chromedp.Click("#submit"))
		if h := run(t, ctx, chromedp.Text("h1")); lang == "zh" && h != "确认是您本人" {
			t.Errorf("zh passkey step heading %q", h)
		}
		screenshot(t, ctx, "login-passkey-step-"+lang)
	}
	if err := chromedp.Do(ctx, chromedp.Click("#passkey-second")); err != nil {
		t.Fatal(err)
	}
	passkeyWait(t, ctx, g, "#passkeys", "#passkey-second-error")
	if who := run(t, ctx, chromedp.Text("#signed-in")); !strings.Contains(who, "alice") {
		t.Errorf("after the passkey step, signed in as %q", who)
	}

	// Remove it; the passkey no longer signs in.
	submit(t, ctx, "#notice", chromedp.Click(".remove-passkey"))
	if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("tr.passkey").length`)); n != 0 {
		t.Errorf("%d passkeys after removal", n)
	}
	signOut(t, ctx)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/login"), chromedp.WaitVisible("#passkey-login"), chromedp.Click("#passkey-login"),
		chromedp.WaitVisible("#passkey-login-error")); err != nil {
		t.Fatalf("a removed passkey: %v", err)
	}
}

// passkeyWait waits for the page a passkey ceremony leads to, or fails
// with what the page's script reported (its error's data-detail) and
// the server's log lines about passkeys.
func passkeyWait(t *testing.T, ctx context.Context, g *gateway, want, errSel string) {
	t.Helper()
	step, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for step.Err() == nil {
		found, _ := chromedp.Run(step, chromedp.Evaluate[string](`(document.querySelector("`+want+`") ? "ok" : "") +
			((document.querySelector("`+errSel+`") && !document.querySelector("`+errSel+`").hidden) ? "err:" + document.querySelector("`+errSel+`").dataset.detail : "")`))
		if found == "ok" {
			return
		}
		if strings.HasPrefix(found, "err:") {
			for _, l := range g.logLines() {
				if strings.Contains(l, "passkey") {
					t.Log(l)
				}
			}
			t.Fatalf("the passkey ceremony failed in the page: %s", found)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("waiting for %s: %v", want, step.Err())
}
