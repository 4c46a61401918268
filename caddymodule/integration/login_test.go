package integration

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/clock"
)

// TestLoginSetsSessionCookie logs in through the form and checks the
// cookie's flags, that the session works for the endpoints and the
// upstream, and that the upstream never sees the cookie.
func TestLoginSetsSessionCookie(t *testing.T) {
	g := newSessionGateway(t, "session_ttl 14d")
	g.addUserWithPassword("alice", "alice password 1")
	c := g.cookieClient()

	resp, body := c.do("GET", "/login?next=/api/papers/1", nil)
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("login page: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{`id="login"`, `id="password"`, `id="totp"`, `id="submit"`, `name="next" value="/api/papers/1"`} {
		if !strings.Contains(body, want) {
			t.Errorf("login page lacks %s", want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'nonce-") {
		t.Errorf("CSP %q", csp)
	}

	resp, body = c.login("alice", "alice password 1", "next", "/api/papers/1?x=1")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/api/papers/1?x=1" {
		t.Fatalf("login: %d to %q %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	ck := sessionCookie(resp)
	if ck == nil {
		t.Fatal("no session cookie")
	}
	if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Secure || ck.Domain != "" {
		t.Errorf("cookie flags: %+v", ck)
	}
	if want := 7 * 24 * 3600; ck.MaxAge < want-60 || ck.MaxAge > want {
		t.Errorf("cookie Max-Age %d, want about half of session_ttl (%d)", ck.MaxAge, want)
	}
	if raw := resp.Header.Get("Set-Cookie"); !strings.Contains(raw, "HttpOnly") || !strings.Contains(raw, "SameSite=Lax") {
		t.Errorf("Set-Cookie %q", raw)
	}
	jwt := c.sessionJWT()

	// The session authenticates endpoints and proxied routes.
	resp, body = c.do("GET", "/api/whoami", nil)
	who := decodeInto[whoami](t, body)
	if resp.StatusCode != 200 || who.Credential != "session" || who.Login != "alice" || !strings.HasPrefix(who.SessionID, "ses_") || who.ExpiresAt == "" {
		t.Fatalf("whoami: %d %s", resp.StatusCode, body)
	}
	if len(who.Scopes) != 5 {
		t.Errorf("a session carries every scope its user holds; got %v", who.Scopes)
	}
	resp, _ = c.do("GET", "/api/papers/1", nil, "Cookie: theme=dark")
	if resp.StatusCode != 200 {
		t.Fatalf("proxied with session: %d", resp.StatusCode)
	}
	up := g.upstream.lastRequest()
	if got := up.Header.Get("Gatehouse-Credential"); got != "session" || up.Header.Get("Gatehouse-User") != "alice" {
		t.Errorf("upstream identity: %v", up.Header)
	}
	cookies := strings.Join(up.Header.Values("Cookie"), "; ")
	if strings.Contains(cookies, "gatehouse_session") || strings.Contains(cookies, jwt) || up.Header.Get("Authorization") != "" {
		t.Errorf("the session reached the upstream: %q", cookies)
	}
	if !strings.Contains(cookies, "theme=dark") {
		t.Errorf("other cookies were dropped: %q", cookies)
	}

	// A second login gets a new session id; the old session ends.
	resp, _ = c.login("alice", "alice password 1")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/pat" {
		t.Fatalf("second login: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, body = c.do("GET", "/api/whoami", nil)
	if again := decodeInto[whoami](t, body); again.SessionID == who.SessionID || again.SessionID == "" {
		t.Errorf("login reused session id %s", who.SessionID)
	}
	if resp, _ := g.get("/api/whoami", "Authorization: Bearer "+jwt); resp.StatusCode != 401 {
		t.Errorf("the replaced session still works: %d", resp.StatusCode)
	}

	// A browser that has a session is sent on from the login page.
	if resp, _ := c.do("GET", "/login?next=/pat", nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/pat" {
		t.Errorf("login page with a session: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	if n := countOf(g.auditActions("alice"), "login"); n != 2 {
		t.Errorf("%d login events in the audit trail, want 2", n)
	}
	g.assertNotLogged("alice password 1", jwt, c.sessionJWT())
}

// TestLoginNextIsNotAnOpenRedirect checks that `next` only ever leads to a
// local path.
func TestLoginNextIsNotAnOpenRedirect(t *testing.T) {
	g := newSessionGateway(t, "")
	g.addUserWithPassword("alice", "alice password 1")
	for _, next := range []string{
		"https://evil.example/", "//evil.example/x", "/\\evil.example", "\\\\evil.example", "http:/evil.example",
		"javascript:alert(1)", "/ok\r\nSet-Cookie: x=y", "evil.example", "/login", "/logout",
	} {
		c := g.cookieClient()
		resp, _ := c.login("alice", "alice password 1", "next", next)
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/pat" {
			t.Errorf("next %q: %d to %q", next, resp.StatusCode, loc)
		}
	}
	c := g.cookieClient()
	resp, _ := c.login("alice", "alice password 1", "next", "/device?user_code=WDJB-MJHT")
	if loc := resp.Header.Get("Location"); loc != "/device?user_code=WDJB-MJHT" {
		t.Errorf("a local next with a query: %q", loc)
	}
}

// TestLoginFailureAndBackoff checks the single failure message, the
// backoff per account and client IP (from the address that failed, a
// correct password is refused while locked; TestLoginLockIsPerClientIP
// has another address) and the audit trail. The backoff's clock is
// stopped, and moved on past the lock.
func TestLoginFailureAndBackoff(t *testing.T) {
	t.Cleanup(clock.Stop(time.Now()))
	g := newSessionGateway(t, "")
	g.addUserWithPassword("alice", "alice password 1")
	c := g.cookieClient()

	for _, attempt := range [][2]string{{"alice", "wrong"}, {"nobody", "alice password 1"}, {"ALICE", "alice password 2"}} {
		resp, body := c.login(attempt[0], attempt[1])
		if resp.StatusCode != http.StatusForbidden || sessionCookie(resp) != nil {
			t.Fatalf("failed login %s: %d", attempt[0], resp.StatusCode)
		}
		if !strings.Contains(body, "Incorrect login, password or one-time code.") {
			t.Errorf("failure message missing: %s", body)
		}
	}
	// The JSON login gives the same single message.
	resp, raw := g.do("POST", "/api/session", strings.NewReader(`{"login":"nobody","password":"x"}`), "Content-Type: application/json")
	if resp.StatusCode != 401 || !strings.Contains(string(raw), `"incorrect login, password or one-time code"`) {
		t.Errorf("CLI login failure: %d %s", resp.StatusCode, raw)
	}

	// alice has 2 failures from this address (the ALICE attempt counts:
	// logins are case-insensitive); the 5th uses up the free ones and
	// locks her out from here.
	for range 3 {
		c.login("alice", "wrong")
	}
	resp, body := c.login("alice", "alice password 1")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("locked account and IP with the right password: %d %s", resp.StatusCode, body)
	}
	if !strings.Contains(body, "Too many failed attempts") || sessionCookie(resp) != nil {
		t.Errorf("throttled page: %s", body)
	}
	resp, raw = g.do("POST", "/api/session", strings.NewReader(`{"login":"alice","password":"alice password 1"}`), "Content-Type: application/json")
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(string(raw), "too_many_attempts") {
		t.Errorf("locked account and IP on the CLI login: %d %s", resp.StatusCode, raw)
	}
	clock.Advance(time.Second) // the first lock lasts a second
	if resp, _ := c.login("alice", "alice password 1"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the lock: %d", resp.StatusCode)
	}

	actions := g.auditActions("alice")
	if n := countOf(actions, "login.failed"); n != 5 {
		t.Errorf("%d login.failed events for alice, want 5 (locked attempts are not checked)", n)
	}
	g.assertNotLogged("alice password 1", "alice password 2", c.sessionJWT())
}

// TestLoginBackoffPerIP checks that one client spraying guesses over many
// accounts is locked out, for real accounts too.
func TestLoginBackoffPerIP(t *testing.T) {
	g := newSessionGateway(t, "")
	g.addUserWithPassword("alice", "alice password 1")
	c := g.cookieClient()
	for i := range 20 { // the IP's free failures; the 20th locks it
		form := url.Values{"login": {"guess" + string(rune('a'+i))}, "password": {"123456"}}
		if resp, _ := c.do("POST", "/login", form); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("guess %d: %d", i, resp.StatusCode)
		}
	}
	if resp, _ := c.login("alice", "alice password 1"); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("a spraying IP may still log in: %d", resp.StatusCode)
	}
}

// TestLoginLockIsPerClientIP: someone guessing a password from one
// address is locked out there, while the account's owner logs in from
// another. Behind a trusted proxy the client IP is X-Forwarded-For's
// (test-net addresses, named only in the header). The backoff's clock is
// stopped, so the guesser's lock lasts the whole test.
func TestLoginLockIsPerClientIP(t *testing.T) {
	t.Cleanup(clock.Stop(time.Now()))
	g := newGateway(t, setup{site: sessionSite, servers: "trusted_proxies static 127.0.0.1/32"})
	g.dumpLogOnFailure()
	g.addUserWithPassword("bob", "bob password 1")
	const guesser, owner = "203.0.113.7", "198.51.100.9"
	from := func(ip string) string { return "X-Forwarded-For: " + ip }

	c := g.cookieClient()
	for i := range 3 * accountIPFreeFailures {
		want := http.StatusForbidden
		if i >= accountIPFreeFailures {
			want = http.StatusTooManyRequests
		}
		form := url.Values{"login": {"bob"}, "password": {"wrong password " + strconv.Itoa(i)}}
		if resp, _ := c.do("POST", "/login", form, "Accept: text/html", from(guesser)); resp.StatusCode != want {
			t.Fatalf("guess %d: %d, want %d", i, resp.StatusCode, want)
		}
	}
	for _, tc := range []struct {
		name, ip string
		want     int
	}{
		{"the guesser's address, form", guesser, http.StatusTooManyRequests},
		{"the owner's address, form", owner, http.StatusSeeOther},
	} {
		c := g.cookieClient()
		form := url.Values{"login": {"bob"}, "password": {"bob password 1"}}
		resp, body := c.do("POST", "/login", form, "Accept: text/html", from(tc.ip))
		if resp.StatusCode != tc.want || (tc.want == http.StatusSeeOther) != (sessionCookie(resp) != nil) {
			t.Errorf("%s with the right password: %d, cookie %v, want %d %s", tc.name, resp.StatusCode, sessionCookie(resp) != nil, tc.want, body)
		}
		if tc.want == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s: 429 without Retry-After", tc.name)
		}
	}
	resp, raw := g.do("POST", "/api/session", strings.NewReader(`{"login":"bob","password":"bob password 1"}`),
		"Content-Type: application/json", from(owner))
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(raw), "access_token") {
		t.Errorf("the owner's address, CLI login: %d %s", resp.StatusCode, raw)
	}

	// The owner's logins unlocked nothing for the guesser.
	form := url.Values{"login": {"bob"}, "password": {"bob password 1"}}
	if resp, _ := g.cookieClient().do("POST", "/login", form, "Accept: text/html", from(guesser)); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("the guesser's address after the owner's logins: %d, want 429", resp.StatusCode)
	}

	var events []struct {
		Action string `json:"action"`
		Actor  struct {
			IP string `json:"ip"`
		} `json:"actor"`
	}
	g.admin("GET", "/gatehouse/audit?user=bob", nil, &events)
	got := map[string]int{}
	for _, e := range events {
		got[e.Action+" "+e.Actor.IP]++
	}
	if got["login.failed "+guesser] != accountIPFreeFailures || got["login "+owner] != 2 {
		t.Errorf("audit trail %v: want %d login.failed from %s and 2 logins from %s", got, accountIPFreeFailures, guesser, owner)
	}
}
