package endpoints

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/gate"
)

func TestLoginPage(t *testing.T) {
	t.Parallel()
	s := defaultTestSite(t)
	s.user(t, "alice", testPassword, nil)

	body := wantPage(t, s.mustServe(t, 200, newRequest("GET", "/login?next=/device%3Fuser_code%3DABCD", "", "")), 200,
		"Sign in", `action="/login"`, `name="next" value="/device?user_code=ABCD"`)
	if strings.Contains(body, "alice") {
		t.Error("the anonymous login page names a user")
	}
	// An unsafe next is replaced by the PAT page.
	wantPage(t, s.serve(newRequest("GET", "/login?next=https://evil.example/", "", "")), 200, `name="next" value="/pat"`)
	// A stale cookie does not lock anyone out of the login page.
	stale := &http.Cookie{Name: gate.SessionCookie, Value: "not.a.jwt"}
	wantPage(t, s.serve(withCookie(newRequest("GET", "/login", "", ""), stale)), 200, "Sign in")
	// A browser signed in already goes on to next.
	c := s.signIn(t, "alice")
	wantRedirect(t, s.serve(withCookie(newRequest("GET", "/login?next=/api/whoami", "", ""), c)), "/api/whoami")
	// A Bearer token that does not verify is refused, even here.
	wantError(t, s.serve(withBearer(newRequest("GET", "/login", "", ""), "qat_nope")), 401, "invalid_token", "")
}

// TestLoginForm: a POST of the login form signs in with a new session and
// its cookie and goes on to a safe next; a refusal is the form again, in
// the page's words, with a status that says why, and signs nobody in.
func TestLoginForm(t *testing.T) {
	t.Parallel()
	s := defaultTestSite(t)
	alice := s.user(t, "alice", testPassword, nil)
	s.user(t, "carol", testPassword, nil)
	if _, err := s.svc().SetDisabled("carol", true, authstore.AdminActor); err != nil {
		t.Fatal(err)
	}
	form := func(login, password, next string) url.Values {
		return url.Values{"login": {login}, "password": {password}, "next": {next}}
	}
	for _, tc := range []struct {
		name   string
		r      func() *http.Request
		status int
		shows  []string // texts of the page shown back
		code   string   // JSON error, for a refusal before the form is read
	}{
		{name: "wrong password", r: func() *http.Request { return postForm("/login", form("alice", "wrong password", "/api/whoami")) },
			status: 403, shows: []string{"Incorrect login, password or one-time code.", `value="alice"`, `name="next" value="/api/whoami"`}},
		{name: "unknown login", r: func() *http.Request { return postForm("/login", form("mallory", testPassword, "")) },
			status: 403, shows: []string{"Incorrect login", `value="mallory"`}},
		{name: "password typed as login is not echoed", r: func() *http.Request { return postForm("/login", form("my secret pw!", "x", "")) },
			status: 403, shows: []string{"Incorrect login", `name="login" value=""`}},
		{name: "disabled account", r: func() *http.Request { return postForm("/login", form("carol", testPassword, "")) },
			status: 403, shows: []string{"This account is disabled."}},
		{name: "cross-origin", r: func() *http.Request { return crossSite(postForm("/login", form("alice", testPassword, ""))) },
			status: 403, code: "forbidden"},
		{name: "unsupported body", r: func() *http.Request {
			return newRequest("POST", "/login", "text/plain", "login=alice&password="+url.QueryEscape(testPassword))
		}, status: 400, code: "invalid_request"},
		{name: "body too large", r: func() *http.Request {
			return postForm("/login", url.Values{"login": {"alice"}, "password": {strings.Repeat("p", 70<<10)}})
		}, status: 400, code: "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := s.serve(tc.r())
			if tc.code != "" {
				wantError(t, w, tc.status, tc.code, "")
			} else {
				wantPage(t, w, tc.status, tc.shows...)
			}
			if c := sessionCookie(w); c != nil {
				t.Errorf("a refused login set the cookie %v", c)
			}
		})
	}
	if sessions, _ := s.store.Sessions(alice.ID); len(sessions) != 0 {
		t.Fatalf("%d sessions after the refused logins", len(sessions))
	}

	// JSON works as the form does; next is followed when local.
	w := s.serve(postJSON("/login", `{"login":"Alice","password":"`+testPassword+`","next":"/api/whoami?x=1"}`))
	wantRedirect(t, w, "/api/whoami?x=1")
	first := sessionCookie(w)
	if first == nil || !first.HttpOnly || first.SameSite != http.SameSiteLaxMode || first.Path != "/" {
		t.Fatalf("session cookie %+v", first)
	}
	sessions, _ := s.store.Sessions(alice.ID)
	if len(sessions) != 1 || sessions[0].Kind != authstore.SessionBrowser || sessions[0].IP != testIP {
		t.Fatalf("sessions after the login: %+v", sessions)
	}
	me := decodeAs[api.Whoami](t, s.mustServe(t, 200, withCookie(newRequest("GET", "/api/whoami", "", ""), first)))
	if me.Login != "alice" || me.SessionID != sessions[0].ID {
		t.Errorf("whoami with the new cookie: %+v", me)
	}

	// A second login from the signed-in browser ends the first session.
	w = s.serve(withCookie(postForm("/login", form("alice", testPassword, "https://evil.example/")), first))
	wantRedirect(t, w, "/pat")
	second := sessionCookie(w)
	if second == nil || second.Value == first.Value {
		t.Fatalf("the second login kept the first cookie")
	}
	if old, _ := s.store.Session(sessions[0].ID); old == nil || old.RevokedAt.IsZero() {
		t.Errorf("the replaced session is still live: %+v", old)
	}
	s.mustServe(t, 401, withCookie(newRequest("GET", "/api/whoami", "", ""), first))
	s.mustServe(t, 200, withCookie(newRequest("GET", "/api/whoami", "", ""), second))
}

func TestLogout(t *testing.T) {
	t.Parallel()
	s := defaultTestSite(t)
	alice := s.user(t, "alice", testPassword, nil)
	live := func() int {
		t.Helper()
		sessions, err := s.store.Sessions(alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, sess := range sessions {
			if sess.RevokedAt.IsZero() {
				n++
			}
		}
		return n
	}
	logout := func(c *http.Cookie, form url.Values, accept string) *http.Request {
		r := postForm("/logout", form)
		if form == nil {
			r = newRequest("POST", "/logout", "", "")
		}
		if accept != "" {
			r.Header.Set("Accept", accept)
		}
		if c != nil {
			r.AddCookie(c)
		}
		return r
	}
	wantCleared := func(t *testing.T, w interface{ Header() http.Header }) {
		t.Helper()
		set := strings.Join(w.Header()["Set-Cookie"], "\n")
		if !strings.Contains(set, gate.SessionCookie+"=;") || !strings.Contains(set, "Max-Age=0") {
			t.Errorf("the session cookie is not cleared: %q", set)
		}
	}

	// One session: this browser's only.
	a, b := s.signIn(t, "alice"), s.signIn(t, "alice")
	w := s.serve(logout(a, nil, "application/json"))
	if got := decodeAs[api.LogoutResponse](t, w); got != (api.LogoutResponse{LoggedOut: true, SessionsRevoked: 1}) {
		t.Errorf("logout: %+v", got)
	}
	wantCleared(t, w)
	if n := live(); n != 1 {
		t.Errorf("%d live sessions after logging one out, want 1", n)
	}
	s.mustServe(t, 401, withCookie(newRequest("GET", "/api/whoami", "", ""), a))
	s.mustServe(t, 200, withCookie(newRequest("GET", "/api/whoami", "", ""), b))

	// Everywhere: all=1 ends every session of the user; a browser form
	// goes to the login page.
	s.signIn(t, "alice")
	w = s.serve(logout(b, url.Values{"all": {"1"}}, "text/html,application/xhtml+xml"))
	wantRedirect(t, w, "/login")
	wantCleared(t, w)
	if n := live(); n != 0 {
		t.Errorf("%d live sessions after logging out everywhere", n)
	}

	// Without a session (or with a stale cookie) there is nothing to end,
	// but the cookie is cleared all the same.
	w = s.serve(logout(a, nil, ""))
	if got := decodeAs[api.LogoutResponse](t, w); got != (api.LogoutResponse{LoggedOut: true}) {
		t.Errorf("logout of an ended session: %+v", got)
	}
	wantCleared(t, w)

	// A forged logout from another site is refused and ends nothing.
	c := s.signIn(t, "alice")
	wantError(t, s.serve(crossSite(logout(c, nil, ""))), 403, "forbidden", "cross-origin")
	if n := live(); n != 1 {
		t.Errorf("%d live sessions after a cross-origin logout, want 1", n)
	}
	wantError(t, s.serve(withCookie(newRequest("POST", "/logout", "text/plain", "all=1"), c)), 400, "invalid_request", "")
	if n := live(); n != 1 {
		t.Errorf("%d live sessions after a malformed logout, want 1", n)
	}
}

// TestSetup: the first-admin page while a setup token waits, each of its
// refusals in the page's words, and the setup that signs the new admin
// in; then the page says setup is done.
func TestSetup(t *testing.T) {
	t.Parallel()
	s := defaultTestSite(t)
	done := func(t *testing.T, status int) {
		t.Helper()
		wantPage(t, s.serve(newRequest("GET", "/setup", "", "")), status, "This server already has accounts. Sign in instead.", `href="/login"`)
	}
	done(t, 404) // no setup token
	tok, _, err := s.store.CreateSetupGrant(time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.store.CreateUser(authstore.NewUser{Login: "bot", Kind: authstore.KindAgent, Tier: "free"}, authstore.AdminActor); err != nil {
		t.Fatal(err)
	}
	wantPage(t, s.mustServe(t, 200, newRequest("GET", "/setup", "", "")), 200, "Create the first administrator", `name="setup_token"`)

	form := func(token, login, pw, confirm string) url.Values {
		return url.Values{"setup_token": {token}, "login": {login}, "password": {pw}, "password_confirm": {confirm}}
	}
	for _, tc := range []struct {
		name   string
		r      *http.Request
		status int
		shows  string
		code   string
	}{
		{"wrong token", postForm("/setup", form("gth_wrong", "root", testPassword, testPassword)), 403, "The setup token is wrong or has expired.", ""},
		{"bad login", postForm("/setup", form(tok, "no spaces", testPassword, testPassword)), 400, "A login is 1 to 64 letters", ""},
		{"taken by an agent", postForm("/setup", form(tok, "bot", testPassword, testPassword)), 409, "A registered agent already has this login.", ""},
		{"short password", postForm("/setup", form(tok, "root", "short", "short")), 400, "Choose a password of at least", ""},
		{"mismatch", postForm("/setup", form(tok, "root", testPassword, testPassword+"!")), 400, "The passwords do not match.", ""},
		{"cross-origin", crossSite(postForm("/setup", form(tok, "root", testPassword, testPassword))), 403, "", "forbidden"},
		{"JSON of numbers", postJSON("/setup", `{"setup_token":1}`), 400, "", "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := s.serve(tc.r)
			if tc.code != "" {
				wantError(t, w, tc.status, tc.code, "")
				return
			}
			wantPage(t, w, tc.status, tc.shows)
			if sessionCookie(w) != nil {
				t.Error("a refused setup set a session cookie")
			}
		})
	}
	if !s.svc().SetupPending() {
		t.Fatal("the refused setups ended setup")
	}

	w := s.serve(postForm("/setup", form(tok, "Root", testPassword, testPassword)))
	wantRedirect(t, w, "/pat")
	c := sessionCookie(w)
	if c == nil {
		t.Fatal("setup did not sign the new admin in")
	}
	me := decodeAs[api.Whoami](t, s.mustServe(t, 200, withCookie(newRequest("GET", "/api/whoami", "", ""), c)))
	if me.Login != "root" || me.Credential != "session" {
		t.Errorf("whoami after setup: %+v", me)
	}
	if s.svc().SetupPending() {
		t.Error("setup still pending after it was used")
	}
	done(t, 404)
	w = s.serve(postForm("/setup", form(tok, "root2", testPassword, testPassword)))
	wantPage(t, w, 404, "This server already has accounts.")
	if _, err := s.store.UserByLogin("root2"); err == nil {
		t.Error("a second setup created an account")
	}
}
