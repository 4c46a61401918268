package idp_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/idp"
)

func TestOIDCSignIn(t *testing.T) {
	t.Parallel()
	o := startOP(t)
	gh := newGatehouse(t, oidcConfig(o))
	local, err := gh.store.CreateUser(authstore.NewUser{Login: "jane", Tier: "free"}, authstore.AdminActor)
	if err != nil {
		t.Fatal(err)
	}

	// First sign-in: a new account, never the local "jane" with the
	// same name, and the browser lands on next with a session.
	o.QueueUser(person("sub-jane", "Jane", "jane@example.com"))
	b := newBrowser(t)
	resp, body := b.follow(gh.URL + "/login/corp?next=" + url.QueryEscape("/device?user_code=WDJB-MJHT"))
	if resp.StatusCode != http.StatusOK || body != "page /device?user_code=WDJB-MJHT for jane-2" {
		t.Fatalf("after sign-in: %d %q", resp.StatusCode, body)
	}
	u, err := gh.store.UserByIdentity("corp", "sub-jane")
	if err != nil {
		t.Fatal(err)
	}
	if u.ID == local.ID || u.Tier != "pro" || len(u.Scopes) != 1 || u.Scopes[0] != "wiki:read" || u.Kind != authstore.KindHuman {
		t.Fatalf("account %+v: want a new human account, tier pro, scopes [wiki:read]", u)
	}

	// Later sign-ins find the same account by subject, even under a new
	// username.
	o.QueueUser(person("sub-jane", "jane.renamed", "jane@example.com"))
	resp, body = newBrowser(t).follow(gh.URL + "/login/corp")
	if resp.StatusCode != http.StatusOK || body != "page /pat for jane-2" {
		t.Fatalf("second sign-in: %d %q", resp.StatusCode, body)
	}
	if n := gh.users(t); n != 2 {
		t.Fatalf("%d users, want 2", n)
	}
	events, _ := gh.store.Audit(u.ID, 50)
	logins := 0
	for _, e := range events {
		if e.Action == authstore.ActionExternalLogin && e.Detail == "provider corp" {
			logins++
		}
	}
	if logins != 2 {
		t.Fatalf("audit has %d external logins, want 2: %+v", logins, events)
	}
}

func TestOIDCFlowRequest(t *testing.T) {
	t.Parallel()
	o := startOP(t)
	gh := newGatehouse(t, oidcConfig(o))
	b := newBrowser(t)
	resp := b.get(gh.URL + "/login/corp?next=https://evil.example/")
	authz, err := resp.Location()
	if err != nil {
		t.Fatal(err)
	}
	q := authz.Query()
	for k, want := range map[string]string{
		"client_id": o.ClientID, "response_type": "code", "code_challenge_method": "S256",
		"redirect_uri": gh.URL + "/login/corp/callback",
	} {
		if q.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, q.Get(k), want)
		}
	}
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if len(q.Get(k)) < 20 {
			t.Errorf("%s = %q: want a long random value", k, q.Get(k))
		}
	}
	var flow *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "gatehouse_idp_corp" {
			flow = c
		}
	}
	switch {
	case flow == nil:
		t.Fatal("no flow cookie")
	case !flow.HttpOnly || flow.SameSite != http.SameSiteLaxMode || flow.Path != "/login/corp/callback" || flow.MaxAge != 600:
		t.Errorf("flow cookie %+v: want HttpOnly, SameSite=Lax, the callback's path, 10 minutes", flow)
	case strings.Contains(flow.Value, q.Get("state")) || strings.Contains(flow.Value, q.Get("nonce")):
		t.Error("the flow cookie shows its state or nonce in the clear")
	}
	// next is validated at the start: a foreign URL becomes the fallback.
	o.QueueUser(person("s", "bob", "bob@example.com"))
	_, body := b.follow(authz.String())
	if body != "page /pat for bob" {
		t.Fatalf("landed on %q, want the fallback /pat", body)
	}
}

// claims edits the ID token the provider signs for a person.
func withClaims(u *user, edit func(*mockoidc.IDTokenClaims)) *user {
	u.claims = edit
	return u
}

func TestOIDCRefusals(t *testing.T) {
	t.Parallel()
	type step func(t *testing.T, o *op, gh *gatehouse, b *browser) *http.Response
	// callback visits the callback the provider sent the browser to.
	callback := func(u *user, edit func(*url.Values)) step {
		return func(t *testing.T, o *op, gh *gatehouse, b *browser) *http.Response {
			o.QueueUser(u)
			cb := b.toCallback(gh, "/pat")
			if edit != nil {
				q := cb.Query()
				edit(&q)
				cb.RawQuery = q.Encode()
			}
			return b.get(cb.String())
		}
	}
	jane := func() *user { return person("sub-1", "jane", "jane@example.com", "engineering") }
	for _, tc := range []struct {
		name   string
		cfg    func(*config.IdentityProvider)
		run    step
		status int
		reason string
	}{
		{"provider says access_denied", nil, callback(jane(), func(q *url.Values) {
			q.Del("code")
			q.Set("error", "access_denied")
		}), http.StatusForbidden, idp.ReasonProviderError},
		{"state tampered", nil, callback(jane(), func(q *url.Values) { q.Set("state", "forged") }), http.StatusBadRequest, idp.ReasonStateInvalid},
		{"no state", nil, callback(jane(), func(q *url.Values) { q.Del("state") }), http.StatusBadRequest, idp.ReasonStateInvalid},
		{"no flow cookie", nil, func(t *testing.T, o *op, gh *gatehouse, b *browser) *http.Response {
			o.QueueUser(jane())
			cb := b.toCallback(gh, "/pat")
			return newBrowser(t).get(cb.String())
		}, http.StatusBadRequest, idp.ReasonStateInvalid},
		{"flow cookie tampered", nil, func(t *testing.T, o *op, gh *gatehouse, b *browser) *http.Response {
			o.QueueUser(jane())
			cb := b.toCallback(gh, "/pat")
			u, _ := url.Parse(gh.URL + "/login/corp/callback")
			c := b.client.Jar.Cookies(u)[0]
			v := []byte(c.Value)
			v[len(v)/2] ^= 1
			req, _ := http.NewRequest(http.MethodGet, cb.String(), nil)
			req.AddCookie(&http.Cookie{Name: c.Name, Value: string(v)})
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { resp.Body.Close() })
			return resp
		}, http.StatusBadRequest, idp.ReasonStateInvalid},
		{"flow cookie replayed", nil, func(t *testing.T, o *op, gh *gatehouse, b *browser) *http.Response {
			o.QueueUser(jane())
			cb := b.toCallback(gh, "/pat")
			u, _ := url.Parse(gh.URL + "/login/corp/callback")
			c := b.client.Jar.Cookies(u)[0]
			if first := b.get(cb.String()); first.StatusCode != http.StatusSeeOther {
				t.Fatalf("first callback: %d", first.StatusCode)
			}
			// An attacker who captured the cookie and the callback URL.
			req, _ := http.NewRequest(http.MethodGet, cb.String(), nil)
			req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { resp.Body.Close() })
			return resp
		}, http.StatusBadRequest, idp.ReasonStateReplayed},
		{"flow expired", nil, func(t *testing.T, o *op, gh *gatehouse, b *browser) *http.Response {
			o.QueueUser(jane())
			cb := b.toCallback(gh, "/pat")
			gh.clock.Advance(idp.FlowTTL + time.Second)
			return b.get(cb.String())
		}, http.StatusBadRequest, idp.ReasonFlowExpired},
		{"nonce mismatch", nil, callback(withClaims(jane(), func(c *mockoidc.IDTokenClaims) { c.Nonce = "someone-elses" }), nil),
			http.StatusForbidden, idp.ReasonTokenInvalid},
		{"wrong audience", nil, callback(withClaims(jane(), func(c *mockoidc.IDTokenClaims) { c.Audience = jwt.ClaimStrings{"another-client"} }), nil),
			http.StatusForbidden, idp.ReasonTokenInvalid},
		{"another audience beside ours, no azp", nil, callback(withClaims(jane(), func(c *mockoidc.IDTokenClaims) {
			c.Audience = append(c.Audience, "another-client")
		}), nil), http.StatusForbidden, idp.ReasonTokenInvalid},
		{"wrong issuer", nil, callback(withClaims(jane(), func(c *mockoidc.IDTokenClaims) { c.Issuer = "https://evil.example" }), nil),
			http.StatusForbidden, idp.ReasonTokenInvalid},
		{"expired ID token", nil, callback(withClaims(jane(), func(c *mockoidc.IDTokenClaims) {
			c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-time.Minute))
		}), nil), http.StatusForbidden, idp.ReasonTokenInvalid},
		{"unverified email", func(c *config.IdentityProvider) { c.AllowEmailDomains = []string{"example.com"} }, callback(func() *user {
			u := jane()
			u.EmailVerified = false
			return u
		}(), nil), http.StatusForbidden, idp.ReasonEmailUnverified},
		{"email domain not allowed", func(c *config.IdentityProvider) { c.AllowEmailDomains = []string{"corp.example"} }, callback(jane(), nil),
			http.StatusForbidden, idp.ReasonEmailDomain},
		{"group not allowed", func(c *config.IdentityProvider) {
			c.AllowGroups = []string{"ops"}
			c.ExtraScopes = []string{"groups"}
		}, callback(jane(), nil), http.StatusForbidden, idp.ReasonGroup},
		{"groups claim absent", func(c *config.IdentityProvider) { c.AllowGroups = []string{"engineering"} }, callback(jane(), nil),
			http.StatusForbidden, idp.ReasonGroup},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := startOP(t)
			cfg := oidcConfig(o)
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			gh := newGatehouse(t, cfg)
			b := newBrowser(t)
			resp := tc.run(t, o, gh, b)
			body := readAll(resp)
			rf := gh.lastRefusal()
			if resp.StatusCode != tc.status || rf == nil || rf.Reason != tc.reason {
				t.Fatalf("got %d, refusal %+v; want %d %s\n%s", resp.StatusCode, rf, tc.status, tc.reason, body)
			}
			if !strings.Contains(body, "corp") || strings.Contains(body, o.ClientSecret) {
				t.Errorf("refusal page should name the provider and never its secret: %s", body)
			}
			for _, c := range resp.Cookies() {
				if c.Name == sessionCookie {
					t.Errorf("a refusal set a session cookie")
				}
			}
			// The replay case signed in once, legitimately.
			want := 0
			if tc.reason == idp.ReasonStateReplayed {
				want = 1
			}
			if n := gh.users(t); n != want {
				t.Errorf("%d users after the refusal, want %d", n, want)
			}
		})
	}
}

func TestOIDCAllowLists(t *testing.T) {
	t.Parallel()
	o := startOP(t)
	cfg := oidcConfig(o)
	cfg.AllowEmailDomains = []string{"example.com"}
	cfg.AllowGroups = []string{"ops", "engineering"}
	cfg.ExtraScopes = []string{"groups"}
	gh := newGatehouse(t, cfg)
	o.QueueUser(person("sub-ok", "ann", "Ann@Example.COM", "engineering"))
	if resp, body := newBrowser(t).follow(gh.URL + "/login/corp"); resp.StatusCode != http.StatusOK || body != "page /pat for ann" {
		t.Fatalf("allowed person: %d %q", resp.StatusCode, body)
	}
}

func TestOIDCDisabledAccount(t *testing.T) {
	t.Parallel()
	o := startOP(t)
	gh := newGatehouse(t, oidcConfig(o))
	o.QueueUser(person("sub-1", "dan", "dan@example.com"))
	if resp, _ := newBrowser(t).follow(gh.URL + "/login/corp"); resp.StatusCode != http.StatusOK {
		t.Fatalf("first sign-in: %d", resp.StatusCode)
	}
	if _, err := gh.store.UpdateUser("dan", authstore.AdminActor, "disabled", func(u *authstore.User) error { u.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	o.QueueUser(person("sub-1", "dan", "dan@example.com"))
	resp, _ := newBrowser(t).follow(gh.URL + "/login/corp")
	if rf := gh.lastRefusal(); resp.StatusCode != http.StatusForbidden || rf == nil || rf.Reason != idp.ReasonDisabled {
		t.Fatalf("disabled: %d %+v", resp.StatusCode, rf)
	}
	if n, _ := gh.store.CountUsers(); n != 1 {
		t.Fatalf("%d users, want 1", n)
	}
}

func TestOIDCKeyRotation(t *testing.T) {
	t.Parallel()
	o := startOP(t)
	gh := newGatehouse(t, oidcConfig(o))
	o.QueueUser(person("sub-1", "kim", "kim@example.com"))
	if _, body := newBrowser(t).follow(gh.URL + "/login/corp"); body != "page /pat for kim" {
		t.Fatalf("before rotation: %q", body)
	}
	o.rotate(t) // a new key and kid; the cached JWKS does not hold it
	o.QueueUser(person("sub-2", "lee", "lee@example.com"))
	if resp, body := newBrowser(t).follow(gh.URL + "/login/corp"); body != "page /pat for lee" {
		t.Fatalf("after rotation: %d %q (refusal %+v)", resp.StatusCode, body, gh.lastRefusal())
	}
}

func TestOIDCProviderDown(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String() + "/oidc"
	ln.Close() // nothing listens there now
	gh := newGatehouse(t, config.IdentityProvider{Name: "corp", Type: config.ProviderOIDC, Issuer: issuer,
		ClientID: "gatehouse", ClientSecret: "s3cret-value"})
	resp := newBrowser(t).get(gh.URL + "/login/corp")
	body := readAll(resp)
	rf := gh.lastRefusal()
	if resp.StatusCode != http.StatusBadGateway || rf == nil || rf.Reason != idp.ReasonUnreachable {
		t.Fatalf("provider down: %d %+v", resp.StatusCode, rf)
	}
	if !strings.Contains(body, "corp") || strings.Contains(body, "s3cret-value") || strings.Contains(rf.Detail, "s3cret-value") {
		t.Fatalf("page should name the provider and never its secret: %s / %s", body, rf.Detail)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "gatehouse_idp_corp" {
			t.Error("a flow cookie was set for a flow that never started")
		}
	}
}

func TestCallbackMethods(t *testing.T) {
	t.Parallel()
	o := startOP(t)
	gh := newGatehouse(t, oidcConfig(o))
	for _, path := range []string{"/login/corp", "/login/corp/callback"} {
		resp, err := http.Post(gh.URL+path, "application/x-www-form-urlencoded", strings.NewReader("code=x"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST %s: %d, want 405", path, resp.StatusCode)
		}
	}
}

// TestOIDCDiscoveryConcurrent: while the provider hangs, sign-ins do not
// queue behind one another's discovery (each would wait for all those
// before it, up to the client timeout apiece): both starts reach the
// provider at once.
func TestOIDCDiscoveryConcurrent(t *testing.T) {
	t.Parallel()
	arrived, release := make(chan struct{}, 2), make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	t.Cleanup(hang.Close)
	gh := newGatehouse(t, config.IdentityProvider{Name: "corp", Type: config.ProviderOIDC, Issuer: hang.URL + "/oidc",
		ClientID: "gatehouse", ClientSecret: "s3cret-value"})
	done := make(chan int, 2)
	for range 2 {
		go func() {
			resp, err := http.Get(gh.URL + "/login/corp")
			if err != nil {
				done <- 0
				return
			}
			resp.Body.Close()
			done <- resp.StatusCode
		}()
	}
	for i := range 2 {
		select {
		case <-arrived:
		case <-time.After(5 * time.Second):
			close(release)
			t.Fatalf("only %d of 2 concurrent sign-ins reached the provider: discovery is serialised", i)
		}
	}
	close(release)
	for range 2 {
		if got := <-done; got != http.StatusBadGateway {
			t.Errorf("status %d, want 502", got)
		}
	}
}
