package endpoints

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/internal/clock"
)

// TestCLISessionAndRefresh: a CLI logs in for an access JWT and a
// refresh token, rotates the refresh token, and is refused with the
// OAuth-style errors the client reads.
func TestCLISessionAndRefresh(t *testing.T) {
	t.Parallel()
	s := defaultTestSite(t)
	alice := s.user(t, "alice", testPassword, []string{"wiki:read"})

	wantError(t, s.serve(postJSON("/api/session", `{"login":"alice","password":"wrong"}`)), 401, "invalid_credentials", "")
	wantError(t, s.serve(postJSON("/api/session", `{"login":"alice","password":1}`)), 400, "invalid_request", "password must be a string")
	wantError(t, s.serve(newRequest("POST", "/api/session", "text/plain", "x")), 400, "invalid_request", "")
	if sessions, _ := s.store.Sessions(alice.ID); len(sessions) != 0 {
		t.Fatalf("%d sessions after refused logins", len(sessions))
	}

	r := postJSON("/api/session", `{"login":"alice","password":"`+testPassword+`"}`)
	r.Header.Set("User-Agent", "gatehouse-cli/1.0")
	tokens := decodeAs[api.CLITokens](t, s.mustServe(t, 200, r))
	if tokens.AccessToken == "" || tokens.RefreshToken == "" || tokens.TokenType != "Bearer" ||
		tokens.ExpiresIn < 3500 || tokens.ExpiresIn > 3600 || tokens.RefreshExpiresIn < 30*24*3600-100 || tokens.RefreshExpiresIn > 30*24*3600 || tokens.Scope != "wiki:read" || tokens.SessionID == "" {
		t.Errorf("CLI tokens %+v", tokens)
	}
	sess, err := s.store.Session(tokens.SessionID)
	if err != nil || sess.Kind != authstore.SessionCLI || sess.UserID != alice.ID || sess.UserAgent != "gatehouse-cli/1.0" {
		t.Fatalf("the CLI session: %+v %v", sess, err)
	}
	me := decodeAs[api.Whoami](t, s.mustServe(t, 200, withBearer(newRequest("GET", "/api/whoami", "", ""), tokens.AccessToken)))
	if me.Login != "alice" || me.SessionID != tokens.SessionID || me.Credential != "session" || me.ExpiresAt.IsZero() {
		t.Errorf("whoami with the access JWT: %+v", me)
	}
	// A form works as JSON does.
	form := decodeAs[api.CLITokens](t, s.mustServe(t, 200, postForm("/api/session", url.Values{"login": {"alice"}, "password": {testPassword}})))
	if form.SessionID == tokens.SessionID {
		t.Error("two logins share a session")
	}

	for _, tc := range []struct {
		name string
		r    *http.Request
		code string
		msg  string
	}{
		{"no refresh_token", postForm("/api/refresh", url.Values{}), "invalid_request", "send refresh_token"},
		{"another grant_type", postForm("/api/refresh", url.Values{"grant_type": {"password"}, "refresh_token": {tokens.RefreshToken}}), "unsupported_grant_type", "refresh_token"},
		{"unknown refresh token", postForm("/api/refresh", url.Values{"refresh_token": {"nope"}}), "invalid_grant", "unknown refresh token"},
		{"bad body", postJSON("/api/refresh", `{"refresh_token":["x"]}`), "invalid_request", "must be a string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, s.serve(tc.r), 400, tc.code, tc.msg)
		})
	}

	rot := decodeAs[api.CLITokens](t, s.mustServe(t, 200, postJSON("/api/refresh",
		`{"grant_type":"refresh_token","refresh_token":"`+tokens.RefreshToken+`"}`)))
	if rot.RefreshToken == tokens.RefreshToken || rot.SessionID != tokens.SessionID || rot.AccessToken == "" {
		t.Errorf("rotated %+v", rot)
	}
	s.mustServe(t, 200, withBearer(newRequest("GET", "/api/whoami", "", ""), rot.AccessToken))
	// The rotated token, used again within the grace window, gets the
	// same answer (TestRefreshReuse: past it).
	again := decodeAs[api.CLITokens](t, s.mustServe(t, 200, postForm("/api/refresh", url.Values{"refresh_token": {tokens.RefreshToken}})))
	if again.RefreshToken != rot.RefreshToken {
		t.Errorf("a refresh within the grace window got another token")
	}
}

// TestRefreshReuse: a rotated refresh token presented again past the
// grace window ends the session, on a stopped clock.
func TestRefreshReuse(t *testing.T) {
	t.Cleanup(clock.Stop(time.Now()))
	s := defaultTestSite(t)
	s.user(t, "alice", testPassword, nil)
	tokens := decodeAs[api.CLITokens](t, s.mustServe(t, 200, postForm("/api/session", url.Values{"login": {"alice"}, "password": {testPassword}})))
	rot := decodeAs[api.CLITokens](t, s.mustServe(t, 200, postForm("/api/refresh", url.Values{"refresh_token": {tokens.RefreshToken}})))
	clock.Advance(authstore.DefaultRefreshGrace + time.Second)
	wantError(t, s.serve(postForm("/api/refresh", url.Values{"refresh_token": {tokens.RefreshToken}})), 400, "invalid_grant", "already used")
	if sess, _ := s.store.Session(tokens.SessionID); sess == nil || sess.RevokedAt.IsZero() {
		t.Errorf("the session outlived the reuse: %+v", sess)
	}
	wantError(t, s.serve(postForm("/api/refresh", url.Values{"refresh_token": {rot.RefreshToken}})), 400, "invalid_grant", "revoked")
	s.mustServe(t, 401, withBearer(newRequest("GET", "/api/whoami", "", ""), rot.AccessToken))
}

// TestPATPage: the PAT page for a browser session only, its create and
// revoke forms and their refusals.
func TestPATPage(t *testing.T) {
	t.Parallel()
	s := defaultTestSite(t)
	alice := s.user(t, "alice", testPassword, []string{"wiki:read", "papers:read"})
	c := s.signIn(t, "alice")
	tok, _ := s.pat(t, alice, "wiki:read")
	cli := decodeAs[api.CLITokens](t, s.mustServe(t, 200, postForm("/api/session", url.Values{"login": {"alice"}, "password": {testPassword}})))
	get := func(q string) *http.Request { return withCookie(newRequest("GET", "/pat"+q, "", ""), c) }
	post := func(form url.Values) *http.Request { return withCookie(postForm("/pat", form), c) }
	count := func() int {
		pats, _ := s.store.PATs(alice.ID)
		return len(pats)
	}

	wantRedirect(t, s.serve(newRequest("GET", "/pat", "", "")), "/login?next=%2Fpat")
	wantError(t, s.serve(postForm("/pat", url.Values{"action": {"create"}})), 401, "unauthorized", "")
	wantError(t, s.serve(withBearer(newRequest("GET", "/pat", "", ""), tok)), 403, "forbidden", "browser session")
	wantError(t, s.serve(withBearer(postForm("/pat", url.Values{"action": {"create"}}), cli.AccessToken)), 403, "forbidden", "browser session")
	wantError(t, s.serve(crossSite(post(url.Values{"action": {"create"}}))), 403, "forbidden", "cross-origin")

	wantPage(t, s.serve(get("")), 200, "Personal access tokens", "test token", "alice", `value="wiki:read"`, `value="papers:read"`, `value="90"`)
	wantPage(t, s.serve(get("?done=revoked")), 200, "Token revoked.")

	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		shows  string
	}{
		{"no action", url.Values{}, 400, "Unknown action."},
		{"unknown action", url.Values{"action": {"mint"}}, 400, "Unknown action."},
		{"no scope", url.Values{"action": {"create"}, "name": {"n"}, "expires_days": {"7"}}, 400, "Choose at least one scope."},
		{"bad expiry", url.Values{"action": {"create"}, "name": {"n"}, "expires_days": {"400"}, "scope": {"wiki:read"}}, 400, "Choose an expiry of 1 to 365 days."},
		{"bad name", url.Values{"action": {"create"}, "name": {"   "}, "expires_days": {"7"}, "scope": {"wiki:read"}}, 400, "Give the token a name"},
		{"a scope not held", url.Values{"action": {"create"}, "name": {"n"}, "expires_days": {"7"}, "scope": {"papers:write"}}, 400, "The token could not be created."},
		{"no resource chosen", url.Values{"action": {"create"}, "name": {"n"}, "expires_days": {"7"}, "scope": {"wiki:read"}, "resources": {"some"}}, 400, "Choose at least one resource"},
		{"revoke an unknown token", url.Values{"action": {"revoke"}, "token_id": {"tok_nope"}}, 404, "The token could not be revoked."},
		{"revoke without an id", url.Values{"action": {"revoke"}}, 404, "The token could not be revoked."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantPage(t, s.serve(post(tc.form)), tc.status, tc.shows)
			if n := count(); n != 1 {
				t.Errorf("%d tokens after a refused form", n)
			}
		})
	}
	wantError(t, s.serve(withCookie(newRequest("POST", "/pat", "text/plain", "action=create"), c)), 400, "invalid_request", "")

	w := s.serve(post(url.Values{"action": {"create"}, "name": {"laptop"}, "expires_days": {"7"}, "scope": {"wiki:read"}}))
	body := wantPage(t, w, 201, "New token: laptop", "Copy it now: it will not be shown again.")
	pats, _ := s.store.PATs(alice.ID)
	if len(pats) != 2 {
		t.Fatalf("%d tokens after creating one", len(pats))
	}
	created := pats[1]
	if created.Name != "laptop" || strings.Join(created.Scopes, " ") != "wiki:read" || created.CreatedVia != authstore.ViaWeb {
		t.Errorf("created %+v", created)
	}
	// The page shows the new token's plaintext, once: a token that
	// verifies as the one created.
	shown := regexp.MustCompile(`qat_[A-Za-z0-9]{36}`).FindAllString(body, -1)
	if len(shown) != 1 {
		t.Fatalf("the page shows %d plaintext tokens, want 1", len(shown))
	}
	if p, _, err := s.store.VerifyPAT(shown[0], testIP); err != nil || p.ID != created.ID {
		t.Errorf("the token shown does not verify as the one created: %v", err)
	}
	if again := s.serve(get("")).Body.String(); strings.Contains(again, shown[0]) {
		t.Error("the page shows the plaintext again")
	}

	wantRedirect(t, s.serve(post(url.Values{"action": {"revoke"}, "token_id": {created.ID}})), "/pat?done=revoked")
	if p, _ := s.store.PAT(created.ID); p.RevokedAt.IsZero() {
		t.Error("the revoked token is live")
	}
	// Another user's token is not found, and stays live.
	s.user(t, "bob", "", nil)
	bob, _ := s.store.UserByLogin("bob")
	_, bobs := s.pat(t, bob, "wiki:read")
	wantPage(t, s.serve(post(url.Values{"action": {"revoke"}, "token_id": {bobs.ID}})), 404, "The token could not be revoked.")
	if p, _ := s.store.PAT(bobs.ID); !p.RevokedAt.IsZero() {
		t.Error("alice revoked bob's token")
	}
}

// TestPATAPI: GET and POST /api/pat and DELETE /api/pat/{id}, for a
// browser session only.
func TestPATAPI(t *testing.T) {
	t.Parallel()
	s := defaultTestSite(t)
	alice := s.user(t, "alice", testPassword, []string{"wiki:read", "papers:read"})
	c := s.signIn(t, "alice")
	tok, own := s.pat(t, alice, "wiki:read")
	cli := decodeAs[api.CLITokens](t, s.mustServe(t, 200, postForm("/api/session", url.Values{"login": {"alice"}, "password": {testPassword}})))
	list := func() []api.TokenInfo {
		t.Helper()
		return decodeAs[[]api.TokenInfo](t, s.mustServe(t, 200, withCookie(newRequest("GET", "/api/pat", "", ""), c)))
	}
	create := func(body string) *http.Request { return withCookie(postJSON("/api/pat", body), c) }

	// Who may not.
	wantError(t, s.serve(newRequest("GET", "/api/pat", "", "")), 401, "unauthorized", "")
	for name, r := range map[string]*http.Request{
		"PAT GET":        withBearer(newRequest("GET", "/api/pat", "", ""), tok),
		"PAT POST":       withBearer(postJSON("/api/pat", `{"name":"x","scopes":["wiki:read"],"expires_days":7}`), tok),
		"PAT DELETE":     withBearer(newRequest("DELETE", "/api/pat/"+own.ID, "", ""), tok),
		"CLI JWT GET":    withBearer(newRequest("GET", "/api/pat", "", ""), cli.AccessToken),
		"CLI JWT DELETE": withBearer(newRequest("DELETE", "/api/pat/"+own.ID, "", ""), cli.AccessToken),
	} {
		t.Run(name, func(t *testing.T) {
			w := s.serve(r)
			if w.Code != http.StatusForbidden {
				t.Fatalf("%d %s, want 403", w.Code, w.Body)
			}
		})
	}
	wantError(t, s.serve(crossSite(create(`{"name":"x","scopes":["wiki:read"],"expires_days":7}`))), 403, "forbidden", "cross-origin")

	if got := list(); len(got) != 1 || got[0].ID != own.ID || got[0].User != "alice" || got[0].Status != "active" {
		t.Fatalf("tokens %+v", got)
	}

	for _, tc := range []struct {
		name   string
		r      *http.Request
		status int
		code   string
		msg    string
	}{
		{"form body", withCookie(postForm("/api/pat", url.Values{"name": {"x"}}), c), 415, "unsupported_media_type", "application/json"},
		{"unknown field", create(`{"name":"x","scopes":["wiki:read"],"expires_days":7,"admin":true}`), 400, "invalid_request", `unknown field "admin"`},
		{"wrong type", create(`{"name":"x","scopes":"wiki:read","expires_days":7}`), 400, "invalid_request", "scopes has the wrong type"},
		{"unknown scope", create(`{"name":"x","scopes":["nope:x"],"expires_days":7}`), 400, "invalid_request", "nope:x"},
		{"scope not held", create(`{"name":"x","scopes":["papers:write"],"expires_days":7}`), 400, "invalid_request", "papers:write"},
		{"no expiry", create(`{"name":"x","scopes":["wiki:read"]}`), 400, "invalid_request", ""},
		{"bad name", create(`{"name":"\u202e","scopes":["wiki:read"],"expires_days":7}`), 400, "invalid_request", "token name"},
		{"a resource not declared", create(`{"name":"x","scopes":["wiki:read"],"expires_days":7,"resources":{"project:atlas":"read"}}`), 400, "invalid_request", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, s.serve(tc.r), tc.status, tc.code, tc.msg)
		})
	}
	if got := list(); len(got) != 1 {
		t.Fatalf("%d tokens after the refusals", len(got))
	}

	made := decodeAs[api.CreateTokenResponse](t, s.mustServe(t, 201, create(`{"name":"ci","scopes":["papers:read"],"expires_days":30}`)))
	if !strings.HasPrefix(made.Token, "qat_") || made.Info.Name != "ci" || made.Info.User != "alice" || made.Info.CreatedVia != authstore.ViaWeb ||
		strings.Join(made.Info.Scopes, " ") != "papers:read" || made.Info.Expires == nil {
		t.Errorf("created %+v", made)
	}
	me := decodeAs[api.Whoami](t, s.mustServe(t, 200, withBearer(newRequest("GET", "/api/whoami", "", ""), made.Token)))
	if me.TokenID != made.Info.ID {
		t.Errorf("whoami with the new token: %+v", me)
	}
	if got := list(); len(got) != 2 || got[0].ID != made.Info.ID {
		t.Errorf("tokens, newest first: %+v", got)
	}

	del := func(path string) *http.Request { return withCookie(newRequest("DELETE", path, "", ""), c) }
	wantError(t, s.serve(del("/api/pat/tok_nope")), 404, "not_found", "no such token")
	wantError(t, s.serve(del("/api/pat/"+made.Info.ID+"/x")), 404, "not_found", "")
	wantError(t, s.serve(del("/api/pat/"+strings.Repeat("x", 65))), 404, "not_found", "")
	gone := decodeAs[api.TokenInfo](t, s.mustServe(t, 200, del("/API/PAT/"+made.Info.ID)))
	if gone.ID != made.Info.ID || gone.Status != "revoked" {
		t.Errorf("revoked %+v", gone)
	}
	wantError(t, s.serve(withBearer(newRequest("GET", "/api/whoami", "", ""), made.Token)), 401, "invalid_token", "revoked")
	// Another user's token is not found.
	s.user(t, "bob", "", nil)
	bob, _ := s.store.UserByLogin("bob")
	_, bobs := s.pat(t, bob, "wiki:read")
	wantError(t, s.serve(del("/api/pat/"+bobs.ID)), 404, "not_found", "")
	if p, _ := s.store.PAT(bobs.ID); !p.RevokedAt.IsZero() {
		t.Error("alice revoked bob's token")
	}
}

func TestWhoami(t *testing.T) {
	t.Parallel()
	s := defaultTestSite(t)
	alice := s.user(t, "alice", testPassword, []string{"wiki:read", "papers:read"})
	tok, p := s.pat(t, alice, "wiki:read", "papers:read")

	w := s.mustServe(t, 200, withBearer(newRequest("GET", "/api/whoami", "", ""), tok))
	me := decodeAs[api.Whoami](t, w)
	if me.UserID != alice.ID || me.Login != "alice" || me.Tier != "free" || me.Credential != "pat" ||
		me.TokenID != p.ID || me.TokenName != "test token" || me.TokenHint != p.Hint || !me.ExpiresAt.Equal(p.ExpiresAt) ||
		strings.Join(me.Scopes, " ") != "wiki:read papers:read" || me.SessionID != "" {
		t.Errorf("whoami with a PAT: %+v", me)
	}
	if got := w.Header().Get(api.HeaderTokenExpiration); got != api.FormatExpiration(p.ExpiresAt) {
		t.Errorf("%s: %q", api.HeaderTokenExpiration, got)
	}
	// The PAT's scopes follow its owner's.
	if _, err := s.store.UpdateUser("alice", authstore.AdminActor, "scopes", func(u *authstore.User) error {
		u.Scopes = []string{"wiki:read"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if me := decodeAs[api.Whoami](t, s.mustServe(t, 200, withBearer(newRequest("GET", "/api/whoami", "", ""), tok))); strings.Join(me.Scopes, " ") != "wiki:read" {
		t.Errorf("scopes after the owner lost one: %v", me.Scopes)
	}

	c := s.signIn(t, "alice")
	w = s.mustServe(t, 200, withCookie(newRequest("GET", "/api/whoami", "", ""), c))
	me = decodeAs[api.Whoami](t, w)
	sessions, _ := s.store.Sessions(alice.ID)
	if me.Credential != "session" || len(sessions) != 1 || me.SessionID != sessions[0].ID || !me.ExpiresAt.Equal(sessions[0].ExpiresAt) || me.TokenID != "" {
		t.Errorf("whoami with a session: %+v", me)
	}
	if w.Header().Get(api.HeaderTokenExpiration) != "" {
		t.Error("a session answer announces a token expiry")
	}

	// A user with no scopes gets [], not null.
	s.user(t, "nobody", "", []string{})
	nobody, _ := s.store.UserByLogin("nobody")
	// A PAT needs a scope; a CLI session is a credential without one.
	cli, err := s.svc().StartCLISession(nobody, testIP, "t")
	if err != nil {
		t.Fatal(err)
	}
	if w := s.mustServe(t, 200, withBearer(newRequest("GET", "/api/whoami", "", ""), cli.AccessToken)); !strings.Contains(w.Body.String(), `"scopes":[]`) {
		t.Errorf("whoami without scopes: %s", w.Body)
	}

	for name, r := range map[string]*http.Request{
		"unknown PAT":  withBearer(newRequest("GET", "/api/whoami", "", ""), "qat_"+strings.Repeat("a", 36)),
		"malformed":    withBearer(newRequest("GET", "/api/whoami", "", ""), "abc"),
		"stale cookie": withCookie(newRequest("GET", "/api/whoami", "", ""), &http.Cookie{Name: "gatehouse_session", Value: "a.b.c"}),
		"Basic": func() *http.Request {
			r := newRequest("GET", "/api/whoami", "", "")
			r.SetBasicAuth("a", "b")
			return r
		}(),
	} {
		t.Run(name, func(t *testing.T) {
			w := s.serve(r)
			if w.Code != 401 && w.Code != 400 {
				t.Errorf("%d %s, want a 401 or 400", w.Code, w.Body)
			}
			if w.Header().Get("WWW-Authenticate") == "" {
				t.Error("no challenge")
			}
		})
	}
}

// TestRevoke: POST /api/auth/revoke: a PAT revokes itself; a session
// revokes one of its user's tokens by id or plaintext, never another's.
func TestRevoke(t *testing.T) {
	t.Parallel()
	s := defaultTestSite(t)
	alice := s.user(t, "alice", testPassword, nil)
	s.user(t, "bob", "", nil)
	bob, _ := s.store.UserByLogin("bob")
	revoked := func(id string) bool {
		p, err := s.store.PAT(id)
		if err != nil {
			t.Fatal(err)
		}
		return !p.RevokedAt.IsZero()
	}
	revoke := func(form url.Values) *http.Request {
		if form == nil {
			return newRequest("POST", "/api/auth/revoke", "", "")
		}
		return postForm("/api/auth/revoke", form)
	}

	wantError(t, s.serve(revoke(nil)), 401, "unauthorized", "")

	// A PAT revokes itself, and only itself.
	self, selfPAT := s.pat(t, alice, "wiki:read")
	_, other := s.pat(t, alice, "wiki:read")
	wantError(t, s.serve(withBearer(revoke(url.Values{"token_id": {other.ID}}), self)), 403, "forbidden", "only itself")
	if revoked(other.ID) || revoked(selfPAT.ID) {
		t.Fatal("a refused revocation revoked a token")
	}
	got := decodeAs[api.RevokeResponse](t, s.mustServe(t, 200, withBearer(revoke(nil), self)))
	if got != (api.RevokeResponse{Revoked: true, TokenID: selfPAT.ID}) || !revoked(selfPAT.ID) {
		t.Errorf("self-revocation: %+v", got)
	}
	wantError(t, s.serve(withBearer(revoke(nil), self)), 401, "invalid_token", "revoked")

	// A session names the token.
	c := s.signIn(t, "alice")
	bySession := func(form url.Values) *http.Request { return withCookie(revoke(form), c) }
	plain, byPlain := s.pat(t, alice, "wiki:read")
	_, bobs := s.pat(t, bob, "wiki:read")
	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		code   string
	}{
		{"nothing named", nil, 400, "invalid_request"},
		{"unknown id", url.Values{"token_id": {"tok_nope"}}, 404, "not_found"},
		{"another user's", url.Values{"token_id": {bobs.ID}}, 404, "not_found"},
		{"id and plaintext differ", url.Values{"token_id": {other.ID}, "token": {plain}}, 400, "invalid_request"},
		{"not a token", url.Values{"token": {"nope"}}, 404, "not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := s.serve(bySession(tc.form))
			wantError(t, w, tc.status, tc.code, "")
			if tc.status == 400 && !strings.Contains(w.Header().Get("WWW-Authenticate"), `error="invalid_request"`) {
				t.Errorf("an invalid revocation without its RFC 6750 challenge: %q", w.Header().Get("WWW-Authenticate"))
			}
		})
	}
	if revoked(other.ID) || revoked(byPlain.ID) || revoked(bobs.ID) {
		t.Fatal("a refused revocation revoked a token")
	}
	if got := decodeAs[api.RevokeResponse](t, s.mustServe(t, 200, bySession(url.Values{"token": {plain}}))); got.TokenID != byPlain.ID || !revoked(byPlain.ID) {
		t.Errorf("revoked by plaintext: %+v", got)
	}
	if got := decodeAs[api.RevokeResponse](t, s.mustServe(t, 200, withCookie(postJSON("/api/auth/revoke", fmt.Sprintf(`{"token_id":%q}`, other.ID)), c))); got.TokenID != other.ID || !revoked(other.ID) {
		t.Errorf("revoked by id: %+v", got)
	}
	wantError(t, s.serve(crossSite(bySession(url.Values{"token_id": {bobs.ID}}))), 403, "forbidden", "cross-origin")
	wantError(t, s.serve(withCookie(newRequest("POST", "/api/auth/revoke", "text/plain", "x"), c)), 400, "invalid_request", "")
}
