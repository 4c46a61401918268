package idp_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/idp"
	"github.com/gatehouse/gatehouse/service"
)

// The tests run a real OpenID provider (mockoidc: discovery, JWKS, the
// authorization and token endpoints with PKCE, RS256 ID tokens) on a
// loopback listener, and a Gatehouse-shaped server over a real store
// whose session start is the injected StartSession.

// testClock is the clock of one test's flows and ID token checks.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// op is the in-process OpenID provider.
type op struct {
	*mockoidc.MockOIDC
	mu sync.Mutex // held around every request, so a test may swap keys
}

func startOP(t *testing.T) *op {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	o := &op{MockOIDC: m}
	_ = m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			o.mu.Lock()
			defer o.mu.Unlock()
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
	return o
}

// rotate gives the provider a new signing key (a new kid).
func (o *op) rotate(t *testing.T) {
	t.Helper()
	kp, err := mockoidc.RandomKeypair(2048)
	if err != nil {
		t.Fatal(err)
	}
	o.mu.Lock()
	o.Keypair = kp
	o.mu.Unlock()
}

// user is a person at the provider; claims, if set, edits the ID token
// the provider signs for them (wrong nonce, audience, expiry).
type user struct {
	mockoidc.MockUser
	claims func(*mockoidc.IDTokenClaims)
}

func (u *user) Claims(scopes []string, base *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	if u.claims != nil {
		u.claims(base)
	}
	return u.MockUser.Claims(scopes, base)
}

func person(sub, username, email string, groups ...string) *user {
	return &user{MockUser: mockoidc.MockUser{Subject: sub, PreferredUsername: username, Email: email, EmailVerified: true, Groups: groups}}
}

// gatehouse is the server under test: the two handlers, a page for
// next, and the store.
type gatehouse struct {
	*httptest.Server
	store    *authstore.Store
	provider *idp.Provider
	clock    *testClock
	refused  []*idp.Refusal
	mu       sync.Mutex
}

const sessionCookie = "test_session"

func newGatehouse(t *testing.T, ip config.IdentityProvider) *gatehouse {
	t.Helper()
	g := config.Global{
		Scopes:            []string{"wiki:read", "papers:read", "papers:write"},
		Tiers:             []config.Tier{{Name: "free", Rate: "100/1m"}, {Name: "pro", Rate: "1000/1m"}},
		IdentityProviders: []config.IdentityProvider{ip},
	}
	policy, err := service.CompilePolicy(g)
	if err != nil {
		t.Fatal(err)
	}
	store, err := authstore.Open(filepath.Join(t.TempDir(), "gh.db"), authstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	clk := &testClock{now: time.Now()}
	p, err := idp.New(policy.IdentityProviders[0], idp.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	svc := &service.Service{Store: store, Policy: policy}
	gh := &gatehouse{store: store, provider: p, clock: clk}
	env := &idp.Env{
		Flows:        idp.NewFlows(),
		CallbackPath: func(name string) string { return "/login/" + name + "/callback" },
		SafeNext: func(next string) string {
			if strings.HasPrefix(next, "/") && !strings.HasPrefix(next, "//") {
				return next
			}
			return "/pat"
		},
		SignIn: func(_ context.Context, p *idp.Provider, id *idp.Identity, ip string) (*authstore.User, error) {
			return svc.SignInExternal(service.ExternalSignIn{Provider: p.Name(), Subject: id.Subject, Username: id.Username, IP: ip})
		},
		StartSession: func(w http.ResponseWriter, r *http.Request, u *authstore.User) error {
			sess, err := store.CreateSession(authstore.NewSession{UserID: u.ID, Kind: authstore.SessionBrowser, TTL: time.Hour}, authstore.UserActor(u.ID, ""))
			if err != nil {
				return err
			}
			http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sess.ID, Path: "/"})
			return nil
		},
		Refused: func(_ *http.Request, _ *idp.Provider, rf *idp.Refusal) {
			gh.mu.Lock()
			gh.refused = append(gh.refused, rf)
			gh.mu.Unlock()
		},
		ClientIP: func(r *http.Request) string { host, _, _ := net.SplitHostPort(r.RemoteAddr); return host },
		Secure:   func(r *http.Request) bool { return r.TLS != nil },
		Now:      clk.Now,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/login/"+p.Name(), func(w http.ResponseWriter, r *http.Request) { env.Start(w, r, p) })
	mux.HandleFunc("/login/"+p.Name()+"/callback", func(w http.ResponseWriter, r *http.Request) { env.Callback(w, r, p) })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(sessionCookie)
		if err != nil {
			http.Error(w, "no session", http.StatusUnauthorized)
			return
		}
		sess, err := store.Session(c.Value)
		if err != nil {
			http.Error(w, "bad session", http.StatusUnauthorized)
			return
		}
		u, _ := store.User(sess.UserID)
		_, _ = w.Write([]byte("page " + r.URL.RequestURI() + " for " + u.Login))
	})
	gh.Server = httptest.NewServer(mux)
	t.Cleanup(gh.Close)
	return gh
}

func oidcConfig(o *op) config.IdentityProvider {
	return config.IdentityProvider{
		Name: "corp", Type: config.ProviderOIDC, Issuer: o.Issuer(),
		ClientID: o.ClientID, ClientSecret: o.ClientSecret,
		Scopes: []string{"wiki:read"}, Tier: "pro",
	}
}

// browser is a cookie-keeping client that stops at every redirect, so
// a test can look at (and tamper with) each step.
type browser struct {
	t      *testing.T
	client *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) get(u string) *http.Response {
	b.t.Helper()
	resp, err := b.client.Get(u)
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// follow gets u and follows redirects to the end.
func (b *browser) follow(u string) (*http.Response, string) {
	b.t.Helper()
	for range 10 {
		resp := b.get(u)
		if resp.StatusCode/100 != 3 {
			return resp, readAll(resp)
		}
		next, err := resp.Location()
		if err != nil {
			b.t.Fatal(err)
		}
		u = next.String()
	}
	b.t.Fatal("too many redirects")
	return nil, ""
}

// toCallback starts a sign-in and lets the provider answer; it returns
// the callback URL the provider sent the browser to, not yet visited.
func (b *browser) toCallback(gh *gatehouse, next string) *url.URL {
	b.t.Helper()
	start := b.get(gh.URL + "/login/corp?next=" + url.QueryEscape(next))
	if start.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("start: %d %s", start.StatusCode, readAll(start))
	}
	authz, _ := start.Location()
	back := b.get(authz.String())
	if back.StatusCode != http.StatusFound {
		b.t.Fatalf("provider: %d %s", back.StatusCode, readAll(back))
	}
	cb, _ := back.Location()
	return cb
}

func readAll(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func (gh *gatehouse) users(t *testing.T) int {
	t.Helper()
	n, err := gh.store.CountUsers()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (gh *gatehouse) lastRefusal() *idp.Refusal {
	gh.mu.Lock()
	defer gh.mu.Unlock()
	if len(gh.refused) == 0 {
		return nil
	}
	return gh.refused[len(gh.refused)-1]
}
