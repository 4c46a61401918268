package integration

import (
	"html/template"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/oauth2-proxy/mockoidc"
)

// consentPage stands in front of the OpenID provider's authorization
// endpoint, as a real provider's sign-in page does: the browser must
// press a button there before the provider redirects back.
var consentPage = template.Must(template.New("consent").Parse(`<!doctype html>
<html><body><h1 id="op-title">Test provider</h1>
<form method="get" action="{{.Action}}">
{{range $k, $vs := .Query}}{{range $vs}}<input type="hidden" name="{{$k}}" value="{{.}}">{{end}}{{end}}
<input type="hidden" name="consent" value="1">
<button id="op-signin" type="submit">Sign in as wren</button>
</form></body></html>`))

func startOIDCProviderWithConsent(t *testing.T) *mockoidc.MockOIDC {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == mockoidc.AuthorizationEndpoint && r.URL.Query().Get("consent") != "1" {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				_ = consentPage.Execute(w, map[string]any{"Action": r.URL.Path, "Query": r.URL.Query()})
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return m
}

// TestBrowserIdentityProvider is the person's path in a real browser:
// open the PAT page, be sent to sign in, click "Sign in with Corp SSO",
// sign in at the provider, land on the PAT page signed in to a new
// account; the button is translated.
func TestBrowserIdentityProvider(t *testing.T) {
	ctx := startChromium(t)
	m := startOIDCProviderWithConsent(t)
	g := newGateway(t, setup{global: idpGlobal(t, m, ""), site: sessionSite})
	g.dumpLogOnFailure()
	m.QueueUser(&mockoidc.MockUser{Subject: "corp-7", PreferredUsername: "wren", Email: "wren@example.com", EmailVerified: true})

	if err := chromedp.Do(ctx, chromedp.Navigate(g.base+"/pat"), chromedp.WaitVisible("#provider-0")); err != nil {
		t.Fatal(err)
	}
	if label := strings.TrimSpace(run(t, ctx, chromedp.Text("#provider-0"))); label != "Sign in with Corp SSO" {
		t.Errorf("button %q", label)
	}
	screenshot(t, ctx, "login-idp")
	if err := chromedp.Do(ctx, chromedp.Click("#provider-0"), chromedp.WaitVisible("#op-signin")); err != nil {
		t.Fatalf("to the provider: %v", err)
	}
	if loc := run(t, ctx, chromedp.Location()); !strings.HasPrefix(loc, m.Addr()) {
		t.Fatalf("at %s, want the provider", loc)
	}
	if err := chromedp.Do(ctx, chromedp.Click("#op-signin"), chromedp.WaitVisible("#create-form")); err != nil {
		t.Fatalf("signing in at the provider: %v", err)
	}
	if loc := run(t, ctx, chromedp.Location()); loc != g.base+"/pat" {
		t.Errorf("landed on %s", loc)
	}
	if who := run(t, ctx, chromedp.Text("#signed-in")); !strings.Contains(who, "wren") {
		t.Errorf("header says %q", who)
	}
	screenshot(t, ctx, "pat-after-idp")

	// Signed out, the login page in Chinese.
	if err := chromedp.Do(ctx, chromedp.Click("#logout"), chromedp.WaitVisible("#provider-0"),
		chromedp.Navigate(g.base+"/login?lang=zh"), chromedp.WaitVisible("#provider-0")); err != nil {
		t.Fatal(err)
	}
	if label := strings.TrimSpace(run(t, ctx, chromedp.Text("#provider-0"))); label != "使用 Corp SSO 登录" {
		t.Errorf("zh button %q", label)
	}
}
