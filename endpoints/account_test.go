package endpoints

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/gatehouse/gatehouse/authstore"
)

// browser is a signed-in browser of a test site: its user and cookie.
type browser struct {
	ts     *testSite
	user   *authstore.User
	cookie *http.Cookie
	sid    string
}

// browserAs makes the user login (an administrator if admin) with password
// "password 123" and signs a browser in as them.
func (ts *testSite) browserAs(t *testing.T, login string, admin bool) *browser {
	t.Helper()
	u, err := ts.store.CreateUser(authstore.NewUser{Login: login, Admin: admin}, authstore.AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := authstore.HashPassword("password 123")
	if u, err = ts.store.SetPassword(login, h, authstore.AdminActor); err != nil {
		t.Fatal(err)
	}
	return ts.newBrowser(t, u)
}

func (ts *testSite) newBrowser(t *testing.T, u *authstore.User) *browser {
	t.Helper()
	bs, err := ts.svc().StartBrowserSession(u, "192.0.2.1", "test browser", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	ts.gate.SetSessionCookie(rec, httptest.NewRequest("GET", "/", nil), bs.JWT, bs.Expires, bs.Issued)
	return &browser{ts: ts, user: u, cookie: rec.Result().Cookies()[0], sid: bs.Session.ID}
}

// get and post send the browser's request through the whole Site.
func (b *browser) get(t *testing.T, path string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest("GET", path, nil)
	r.Header.Set("Accept", "text/html")
	if b.cookie != nil {
		r.AddCookie(b.cookie)
	}
	w := httptest.NewRecorder()
	b.ts.ServeHTTP(w, r)
	return w
}

func (b *browser) post(t *testing.T, path string, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	r := formRequest(context.Background(), path, "192.0.2.1", form)
	r.Header.Set("Accept", "text/html")
	if b.cookie != nil {
		r.AddCookie(b.cookie)
	}
	w := httptest.NewRecorder()
	b.ts.ServeHTTP(w, r)
	return w
}

func wantStatus(t *testing.T, w *httptest.ResponseRecorder, status int, contains string) {
	t.Helper()
	if w.Code != status || !strings.Contains(w.Body.String(), contains) {
		t.Fatalf("status %d (want %d), body lacks %q:\n%.2000s", w.Code, status, contains, w.Body.String())
	}
}

// TestAccountPagesNeedABrowserSession: no session is sent to sign in, a
// PAT is refused with a page, a cross-origin form is refused.
func TestAccountPagesNeedABrowserSession(t *testing.T) {
	t.Parallel()
	ts := defaultTestSite(t)
	anon := &browser{ts: ts}
	for _, p := range []string{"/account/security", "/account/sessions", "/gatehouse/admin", "/gatehouse/admin/audit"} {
		w := anon.get(t, p)
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/login?next="+url.QueryEscape(p) {
			t.Errorf("%s without a session: %d %s", p, w.Code, w.Header().Get("Location"))
		}
	}
	wantStatus(t, anon.post(t, "/account/security", url.Values{"action": {"totp_begin"}}), http.StatusUnauthorized, "")

	b := ts.browserAs(t, "alice", false)
	tok, _, err := ts.store.CreatePAT(authstore.NewPAT{UserID: b.user.ID, Name: "t", Scopes: []string{"wiki:read"}, Prefix: "qat_", ExpiresAt: time.Now().Add(time.Hour)}, authstore.AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/account/sessions", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	w := httptest.NewRecorder()
	ts.ServeHTTP(w, r)
	wantStatus(t, w, http.StatusForbidden, "browser")

	r = formRequest(context.Background(), "/account/security", "192.0.2.1", url.Values{"action": {"totp_begin"}})
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	r.AddCookie(b.cookie)
	w = httptest.NewRecorder()
	ts.ServeHTTP(w, r)
	wantStatus(t, w, http.StatusForbidden, "another site")
	if u, _ := ts.store.User(b.user.ID); u.TOTPPending != "" {
		t.Error("a cross-origin form began an enrolment")
	}
}

// TestSecurityPagePassword: each refusal shows its message and changes
// nothing; a change ends the other sessions unless kept, never this one.
func TestSecurityPagePassword(t *testing.T) {
	t.Parallel()
	ts := defaultTestSite(t)
	b := ts.browserAs(t, "alice", false)
	other := ts.newBrowser(t, b.user)
	change := func(cur, nw, confirm, keep string) *httptest.ResponseRecorder {
		return b.post(t, "/account/security", url.Values{"action": {"password"}, "current": {cur}, "new": {nw}, "confirm": {confirm}, "keep_sessions": {keep}})
	}
	wantStatus(t, change("wrong one", "new password 9", "new password 9", ""), http.StatusForbidden, "current password is not right")
	wantStatus(t, change("password 123", "short", "short", ""), http.StatusBadRequest, "at least 8")
	wantStatus(t, change("password 123", "new password 9", "other password", ""), http.StatusBadRequest, "")
	wantStatus(t, other.get(t, "/account/sessions"), http.StatusOK, "this one")

	w := change("password 123", "new password 9", "new password 9", "1")
	if w.Code != http.StatusSeeOther || !strings.Contains(w.Header().Get("Location"), "ended=0") {
		t.Fatalf("keep: %d %s", w.Code, w.Header().Get("Location"))
	}
	wantStatus(t, other.get(t, "/account/sessions"), http.StatusOK, "this one")
	w = change("new password 9", "new password 10", "new password 10", "")
	if w.Code != http.StatusSeeOther || !strings.Contains(w.Header().Get("Location"), "ended=1") {
		t.Fatalf("end others: %d %s", w.Code, w.Header().Get("Location"))
	}
	if w := other.get(t, "/account/sessions"); w.Code != http.StatusSeeOther {
		t.Errorf("the other session still works: %d", w.Code)
	}
	wantStatus(t, b.get(t, "/account/security?done=password&ended=1"), http.StatusOK, "1 other sessions were signed out")
	if _, err := ts.store.CheckLogin(context.Background(), "alice", "new password 10", "", ""); err != nil {
		t.Errorf("new password: %v", err)
	}
}

var secretRE = regexp.MustCompile(`<code id="totp-secret">([A-Z2-7]+)</code>`)

// TestSecurityPageTOTP: enrol with the QR code and seed on the page, a
// wrong code refused, the right one switches on and shows recovery codes
// once; off needs a fresh code.
func TestSecurityPageTOTP(t *testing.T) {
	t.Parallel()
	ts := defaultTestSite(t)
	b := ts.browserAs(t, "alice", false)
	wantStatus(t, b.post(t, "/account/security", url.Values{"action": {"totp_confirm"}, "code": {"123456"}}), http.StatusConflict, "not set up")
	if w := b.post(t, "/account/security", url.Values{"action": {"totp_begin"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("begin: %d", w.Code)
	}
	page := b.get(t, "/account/security")
	wantStatus(t, page, http.StatusOK, `src="data:image/png;base64,`)
	m := secretRE.FindStringSubmatch(page.Body.String())
	if m == nil {
		t.Fatal("no seed on the page")
	}
	if csp := page.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' data:") {
		t.Errorf("CSP %q does not allow the QR code", csp)
	}
	code, _ := totp.GenerateCode(m[1], time.Now())
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	wantStatus(t, b.post(t, "/account/security", url.Values{"action": {"totp_confirm"}, "code": {wrong}}), http.StatusForbidden, "wrong or was used")
	w := b.post(t, "/account/security", url.Values{"action": {"totp_confirm"}, "code": {code}})
	wantStatus(t, w, http.StatusOK, `id="recovery-codes"`)
	if n := strings.Count(w.Body.String(), "<li><code>"); n != authstore.RecoveryCodeCount {
		t.Errorf("%d recovery codes shown", n)
	}
	again := b.get(t, "/account/security")
	wantStatus(t, again, http.StatusOK, "Recovery codes left: 10")
	if strings.Contains(again.Body.String(), "recovery-codes") || strings.Contains(again.Body.String(), m[1]) {
		t.Error("the codes or the seed are shown again")
	}
	wantStatus(t, b.post(t, "/account/security", url.Values{"action": {"totp_off"}, "code": {code}}), http.StatusForbidden, "wrong or was used")
	later, _ := totp.GenerateCode(m[1], time.Now().Add(30*time.Second))
	if w := b.post(t, "/account/security", url.Values{"action": {"totp_off"}, "code": {later}}); w.Code != http.StatusSeeOther {
		t.Fatalf("off: %d %s", w.Code, w.Body)
	}
	wantStatus(t, b.post(t, "/account/security", url.Values{"action": {"nonsense"}}), http.StatusBadRequest, "Unknown action")
}

// TestSessionsPage: the list marks this session; another user's session
// cannot be ended; one row ends; everywhere else keeps this one; ending
// this one signs out.
func TestSessionsPage(t *testing.T) {
	t.Parallel()
	ts := defaultTestSite(t)
	b := ts.browserAs(t, "alice", false)
	o1, o2 := ts.newBrowser(t, b.user), ts.newBrowser(t, b.user)
	bob := ts.browserAs(t, "bob", false)
	w := b.get(t, "/account/sessions")
	wantStatus(t, w, http.StatusOK, `id="session-`+b.sid+`" class="status-active current"`)
	if strings.Contains(w.Body.String(), bob.sid) {
		t.Error("bob's session is listed")
	}
	wantStatus(t, b.post(t, "/account/sessions", url.Values{"action": {"revoke"}, "session_id": {bob.sid}}), http.StatusNotFound, "no such session")
	wantStatus(t, bob.get(t, "/account/sessions"), http.StatusOK, "")
	if w := b.post(t, "/account/sessions", url.Values{"action": {"revoke"}, "session_id": {o1.sid}}); w.Code != http.StatusSeeOther {
		t.Fatalf("revoke one: %d", w.Code)
	}
	if w := o1.get(t, "/account/sessions"); w.Code != http.StatusSeeOther {
		t.Errorf("revoked session still works: %d", w.Code)
	}
	wantStatus(t, o2.get(t, "/account/sessions"), http.StatusOK, "")
	if w := b.post(t, "/account/sessions", url.Values{"action": {"others"}}); w.Code != http.StatusSeeOther || !strings.Contains(w.Header().Get("Location"), "ended=1") {
		t.Fatalf("others: %d %s", w.Code, w.Header().Get("Location"))
	}
	if w := o2.get(t, "/account/sessions"); w.Code != http.StatusSeeOther {
		t.Errorf("other session still works: %d", w.Code)
	}
	w = b.post(t, "/account/sessions", url.Values{"action": {"revoke"}, "session_id": {b.sid}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/login" {
		t.Fatalf("revoke this one: %d %s", w.Code, w.Header().Get("Location"))
	}
	if w := b.get(t, "/account/sessions"); w.Code != http.StatusSeeOther {
		t.Errorf("signed-out session still works: %d", w.Code)
	}
}
