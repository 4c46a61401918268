package endpoints

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/gate"
	"github.com/gatehouse/gatehouse/problem"
	"github.com/gatehouse/gatehouse/service"
)

// Helpers for the tests that go through Site.ServeHTTP, as the host
// sends requests: a request, its credential, and what came back.

// testIP is the client address of the tests' requests.
const testIP = "192.0.2.10"

// testPassword is the password of the tests' users.
const testPassword = "correct horse battery"

// newRequest is a request from testIP to example.com with body, sent
// with Content-Type ct unless ct is "".
func newRequest(method, target, ct, body string) *http.Request {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, "http://example.com"+target, rd)
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	r.RemoteAddr = testIP + ":40000"
	return r
}

// postForm is a POST of form to target.
func postForm(target string, form url.Values) *http.Request {
	return newRequest(http.MethodPost, target, "application/x-www-form-urlencoded", form.Encode())
}

// postJSON is a POST of the JSON body to target.
func postJSON(target, body string) *http.Request {
	return newRequest(http.MethodPost, target, "application/json", body)
}

// withCookie adds the session cookie c to r.
func withCookie(r *http.Request, c *http.Cookie) *http.Request {
	r.AddCookie(c)
	return r
}

// withBearer sends tok as the Bearer credential of r.
func withBearer(r *http.Request, tok string) *http.Request {
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}

// crossSite marks r as a browser's cross-site request.
func crossSite(r *http.Request) *http.Request {
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	r.Header.Set("Origin", "https://evil.example")
	return r
}

// serve sends r through the site, as the host does.
func (s *testSite) serve(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

// mustServe is serve, failing unless the answer has status want.
func (s *testSite) mustServe(t *testing.T, want int, r *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	w := s.serve(r)
	if w.Code != want {
		t.Fatalf("%s %s: %d %s, want %d", r.Method, r.URL.Path, w.Code, truncate(w.Body.String(), 600), want)
	}
	return w
}

// user creates a human user with testPassword (or none, for "") and the
// given scopes (nil: every scope).
func (s *testSite) user(t *testing.T, login string, password string, scopes []string) *authstore.User {
	t.Helper()
	u, err := s.store.CreateUser(authstore.NewUser{Login: login, Tier: "free", Scopes: scopes}, authstore.AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	if password != "" {
		hash, err := authstore.HashPassword(password)
		if err != nil {
			t.Fatal(err)
		}
		if u, err = s.store.SetPassword(login, hash, authstore.AdminActor); err != nil {
			t.Fatal(err)
		}
	}
	return u
}

// signIn logs login in through the login form and returns the session
// cookie it set.
func (s *testSite) signIn(t *testing.T, login string) *http.Cookie {
	t.Helper()
	w := s.mustServe(t, http.StatusSeeOther, postForm("/login", url.Values{"login": {login}, "password": {testPassword}}))
	c := sessionCookie(w)
	if c == nil || c.Value == "" || c.MaxAge <= 0 {
		t.Fatalf("login set no session cookie: %v", w.Header()["Set-Cookie"])
	}
	return c
}

// sessionCookie is the session cookie an answer set, or nil.
func sessionCookie(w *httptest.ResponseRecorder) *http.Cookie {
	for _, c := range w.Result().Cookies() {
		if c.Name == gate.SessionCookie {
			return c
		}
	}
	return nil
}

// pat mints a PAT of u with scopes, as the PAT page would.
func (s *testSite) pat(t *testing.T, u *authstore.User, scopes ...string) (string, *authstore.PAT) {
	t.Helper()
	tok, p, err := s.svc().MintPAT(u, service.PATRequest{Name: "test token", Scopes: scopes, ExpiresDays: 7, Via: authstore.ViaWeb}, authstore.AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	return tok, p
}

// decodeAs decodes a JSON answer into a T, refusing fields T lacks, so
// that an answer's shape is pinned to package api.
func decodeAs[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q, want JSON; body %s", ct, truncate(w.Body.String(), 600))
	}
	var v T
	dec := json.NewDecoder(bytes.NewReader(w.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decoding %s into %T: %v", w.Body, v, err)
	}
	return v
}

// wantError fails unless w is a JSON error answer with status and code
// whose message holds msg.
func wantError(t *testing.T, w *httptest.ResponseRecorder, status int, code, msg string) api.Error {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d %s, want %d", w.Code, truncate(w.Body.String(), 600), status)
	}
	e := decodeAs[api.Error](t, w)
	if e.Error != code || e.Message == "" || !strings.Contains(e.Message, msg) {
		t.Errorf("error %+v, want %q with a message holding %q", e, code, msg)
	}
	return e
}

// wantPage fails unless w is an HTML page with status that shows every
// one of texts.
func wantPage(t *testing.T, w *httptest.ResponseRecorder, status int, texts ...string) string {
	t.Helper()
	body := w.Body.String()
	if w.Code != status {
		t.Fatalf("status %d, want %d; page %s", w.Code, status, truncate(stripAttrs(body), 800))
	}
	if ct := w.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q, want HTML; body %s", ct, truncate(body, 300))
	}
	if w.Header().Get("Cache-Control") != "no-store" || !strings.Contains(w.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("page headers: %v", w.Header())
	}
	text := stripAttrs(body)
	for _, s := range texts {
		if !strings.Contains(text, s) && !strings.Contains(body, s) {
			t.Errorf("the page does not show %q: %s", s, truncate(strings.Join(strings.Fields(text), " "), 1500))
		}
	}
	return body
}

// wantRedirect fails unless w is a 303 to location.
func wantRedirect(t *testing.T, w *httptest.ResponseRecorder, location string) {
	t.Helper()
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != location {
		t.Fatalf("%d to %q, want 303 to %q; body %s", w.Code, w.Header().Get("Location"), location, truncate(w.Body.String(), 300))
	}
}

// recordingMetrics keeps what the site counts.
type recordingMetrics struct {
	mu       sync.Mutex
	denials  []string // reasons
	allowed  int
	deviceEv []string
	idpEv    []string // provider/outcome
}

func (m *recordingMetrics) Decision(d *problem.Problem) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if d == nil {
		m.allowed++
		return
	}
	m.denials = append(m.denials, d.Reason)
}

func (m *recordingMetrics) DeviceFlow(event string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.deviceEv = append(m.deviceEv, event)
}

func (m *recordingMetrics) IdentityLogin(provider, outcome string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.idpEv = append(m.idpEv, provider+"/"+outcome)
}

func (m *recordingMetrics) events() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return strings.Join(m.deviceEv, " ")
}

func (m *recordingMetrics) denied() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return strings.Join(m.denials, " ")
}

// withMetrics makes the site count into a fresh recordingMetrics.
func (s *testSite) withMetrics() *recordingMetrics {
	m := &recordingMetrics{}
	s.metrics = m
	return m
}
