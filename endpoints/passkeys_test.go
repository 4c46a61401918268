package endpoints

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/service"
)

func (b *browser) postJSON(t *testing.T, path, body string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest("POST", path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Host = "localhost"
	if b.cookie != nil {
		r.AddCookie(b.cookie)
	}
	for _, c := range cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	b.ts.ServeHTTP(w, r)
	return w
}

// TestPasskeyRefusals: an answer without a ceremony, a challenge used
// twice, a ceremony finished by another session, a sign-in without its
// cookie, a cross-origin sign-in, a PAT, an unknown passkey: each is
// refused and nothing is stored.
func TestPasskeyRefusals(t *testing.T) {
	t.Parallel()
	ts := defaultTestSite(t)
	b := ts.browserAs(t, "alice", false)
	other := ts.newBrowser(t, b.user)
	const garbage = `{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"e30","attestationObject":"oA"}}`

	wantStatus(t, b.postJSON(t, "/account/passkeys?op=finish", garbage), http.StatusBadRequest, "no passkey registration is in progress")
	w := b.postJSON(t, "/account/passkeys?op=begin", `{"name":"laptop"}`)
	wantStatus(t, w, http.StatusOK, `"challenge"`)
	if !strings.Contains(w.Body.String(), `"residentKey":"required"`) || !strings.Contains(w.Body.String(), `"id":"localhost"`) {
		t.Errorf("registration options: %s", w.Body)
	}
	// Bound to the session that began it.
	wantStatus(t, other.postJSON(t, "/account/passkeys?op=finish", garbage), http.StatusBadRequest, "no passkey registration is in progress")
	wantStatus(t, b.postJSON(t, "/account/passkeys?op=finish", garbage), http.StatusBadRequest, "did not verify")
	// The challenge is spent by the first answer, right or wrong.
	wantStatus(t, b.postJSON(t, "/account/passkeys?op=finish", garbage), http.StatusBadRequest, "no passkey registration is in progress")
	wantStatus(t, b.postJSON(t, "/account/passkeys?op=begin", `{"name":"bad\u202ename"}`), http.StatusBadRequest, "passkey name")
	if u, _ := ts.store.User(b.user.ID); len(u.Passkeys) != 0 {
		t.Errorf("a refused ceremony stored %+v", u.Passkeys)
	}

	anon := &browser{ts: ts}
	wantStatus(t, anon.postJSON(t, "/passkey/login?op=finish", garbage), http.StatusBadRequest, "no passkey sign-in is in progress")
	w = anon.postJSON(t, "/passkey/login?op=begin", ``)
	wantStatus(t, w, http.StatusOK, `"challenge"`)
	var bound *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == passkeyCookie {
			bound = c
		}
	}
	if bound == nil || !bound.HttpOnly || bound.SameSite != http.SameSiteStrictMode {
		t.Fatalf("sign-in cookie %+v", bound)
	}
	wantStatus(t, anon.postJSON(t, "/passkey/login?op=finish", garbage, bound), http.StatusBadRequest, "did not verify")
	wantStatus(t, anon.postJSON(t, "/passkey/login?op=finish", garbage, bound), http.StatusBadRequest, "no passkey sign-in is in progress")

	r := formRequest(context.Background(), "/passkey/login?op=begin", "192.0.2.1", url.Values{})
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	w = httptest.NewRecorder()
	ts.ServeHTTP(w, r)
	wantStatus(t, w, http.StatusForbidden, "cross-origin")

	if w := b.post(t, "/account/passkeys", url.Values{"action": {"remove"}, "id": {"nope"}}); w.Code != http.StatusSeeOther || !strings.Contains(w.Header().Get("Location"), "passkey_unknown") {
		t.Errorf("removing an unknown passkey: %d %s", w.Code, w.Header().Get("Location"))
	}
	wantStatus(t, anon.postJSON(t, "/account/passkeys?op=begin", `{"name":"x"}`), http.StatusUnauthorized, "")
}

func TestRelyingPartyFor(t *testing.T) {
	t.Parallel()
	rp, err := service.RelyingPartyFor("https://auth.example.com:8443", "Example")
	if err != nil || rp.ID != "auth.example.com" || len(rp.Origins) != 1 || rp.Origins[0] != "https://auth.example.com:8443" {
		t.Errorf("%+v %v", rp, err)
	}
	if _, err := service.RelyingPartyFor("not a url", "x"); err == nil {
		t.Error("no host accepted")
	}
}

// TestPasskeySecondFactor: a right password without a code, for a user
// with TOTP and a passkey, gets the passkey step (an assertion limited to
// the user's passkeys, bound to a cookie); a wrong password does not; the
// step's challenge works once; a user without a passkey gets the usual
// failure.
func TestPasskeySecondFactor(t *testing.T) {
	t.Parallel()
	ts := defaultTestSite(t)
	ts.browserAs(t, "alice", false)
	if _, err := ts.store.EnableTOTP("alice", "x", authstore.AdminActor); err != nil {
		t.Fatal(err)
	}
	ts.browserAs(t, "bob", false)
	if _, err := ts.store.EnableTOTP("bob", "x", authstore.AdminActor); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.store.AddPasskey("alice", authstore.Passkey{ID: "AQID", Name: "key", Credential: []byte(`{"id":"AQID"}`)}, authstore.AdminActor); err != nil {
		t.Fatal(err)
	}
	anon := &browser{ts: ts}
	login := func(user, pw string) *httptest.ResponseRecorder {
		r := formRequest(context.Background(), "/login", "192.0.2.7", url.Values{"login": {user}, "password": {pw}})
		r.Header.Set("Accept", "text/html")
		r.Host = "localhost"
		w := httptest.NewRecorder()
		ts.ServeHTTP(w, r)
		return w
	}
	w := login("alice", "password 123")
	wantStatus(t, w, http.StatusOK, `id="passkey-second"`)
	if !strings.Contains(w.Body.String(), "allowCredentials") || !strings.Contains(w.Body.String(), "AQID") {
		t.Errorf("the step's options do not name alice's passkey:\n%.3000s", w.Body)
	}
	var bound *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == passkeyCookie {
			bound = c
		}
		if c.Name == "gatehouse_session" && c.MaxAge > 0 {
			t.Error("a session before the second factor")
		}
	}
	if bound == nil {
		t.Fatal("no step cookie")
	}
	wantStatus(t, login("alice", "wrong password"), http.StatusForbidden, "Incorrect login")
	wantStatus(t, login("bob", "password 123"), http.StatusForbidden, "Incorrect login")
	const garbage = `{"id":"AQID","rawId":"AQID","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"AA","signature":"AA"}}`
	wantStatus(t, anon.postJSON(t, "/passkey/login?op=second", garbage), http.StatusBadRequest, "no sign-in is waiting")
	wantStatus(t, anon.postJSON(t, "/passkey/login?op=second", garbage, bound), http.StatusBadRequest, "did not verify")
	wantStatus(t, anon.postJSON(t, "/passkey/login?op=second", garbage, bound), http.StatusBadRequest, "no sign-in is waiting")
}
