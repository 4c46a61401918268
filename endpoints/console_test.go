package endpoints

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
)

func consoleTestSite(t *testing.T) *testSite {
	return newTestSite(t, config.Global{TokenPrefix: "qat_", Scopes: []string{"wiki:read", "papers:read"},
		Tiers:     []config.Tier{{Name: "free", Rate: "60/1m"}, {Name: "pro", Rate: "600/1m"}},
		Resources: []config.ResourceType{{Name: "project", Roles: []string{"read", "edit"}}}}, nil)
}

// consoleURLs are every console page and every form it posts.
var consoleURLs = []struct {
	path string
	form url.Values // nil: GET
}{
	{"/gatehouse/admin", nil},
	{"/gatehouse/admin/", nil},
	{"/gatehouse/admin/users/alice", nil},
	{"/gatehouse/admin/tokens", nil},
	{"/gatehouse/admin/sessions", nil},
	{"/gatehouse/admin/members", nil},
	{"/gatehouse/admin/audit", nil},
	{"/gatehouse/admin/nonsense", nil},
	{"/GATEHOUSE/ADMIN/users/alice", nil},
	{"/gatehouse/admin", url.Values{"action": {"create"}, "login": {"mallory2"}}},
	{"/gatehouse/admin/users/alice", url.Values{"action": {"admin"}, "admin": {"1"}}},
	{"/gatehouse/admin/users/alice", url.Values{"action": {"disable"}}},
	{"/gatehouse/admin/users/alice", url.Values{"action": {"tier"}, "tier": {"pro"}}},
	{"/gatehouse/admin/users/alice", url.Values{"action": {"scopes"}, "all_scopes": {"1"}}},
	{"/gatehouse/admin/users/alice", url.Values{"action": {"member_set"}, "type": {"project"}, "name": {"x"}, "role": {"edit"}}},
	{"/gatehouse/admin/users/alice", url.Values{"action": {"reset_2fa"}}},
	{"/gatehouse/admin/users/alice", url.Values{"action": {"revoke_all"}}},
	{"/gatehouse/admin/users/alice", url.Values{"action": {"password_link"}}},
	{"/gatehouse/admin/tokens", url.Values{"token_id": {"tok_x"}}},
	{"/gatehouse/admin/sessions", url.Values{"session_id": {"ses_x"}}},
	{"/gatehouse/admin/members", url.Values{"action": {"member_set"}, "user": {"mallory"}, "type": {"project"}, "name": {"x"}, "role": {"edit"}}},
}

// TestConsoleRefusesNonAdmins: every console URL and form answers 403 to
// a signed-in user without the administrator role and changes nothing.
func TestConsoleRefusesNonAdmins(t *testing.T) {
	t.Parallel()
	ts := consoleTestSite(t)
	ts.browserAs(t, "alice", false)
	m := ts.browserAs(t, "mallory", false)
	before, _ := ts.store.Audit("", 0)
	for _, c := range consoleURLs {
		if c.form == nil {
			wantStatus(t, m.get(t, c.path), http.StatusForbidden, "Only administrators")
		} else {
			wantStatus(t, m.post(t, c.path, c.form), http.StatusForbidden, "Only administrators")
		}
	}
	after, _ := ts.store.Audit("", 0)
	if len(after) != len(before) {
		t.Errorf("refused console requests changed the store: %+v", after[:len(after)-len(before)])
	}
	if u, _ := ts.store.UserByLogin("mallory"); u.Admin {
		t.Error("mallory made herself an administrator")
	}
	// The nav offers the console to administrators only.
	if strings.Contains(m.get(t, "/account/security").Body.String(), "nav-console") {
		t.Error("the console is linked for a non-administrator")
	}
}

// auditedBy reports whether the newest event about a user was made by
// the administrator admin.
func auditedBy(t *testing.T, ts *testSite, admin *authstore.User, detail string) {
	t.Helper()
	events, _ := ts.store.Audit("", 0)
	for _, e := range events {
		if strings.Contains(e.Detail, detail) || e.Action == detail {
			if e.Actor.Kind != authstore.ActorAdmin || e.Actor.UserID != admin.ID || e.Actor.IP != "192.0.2.1" {
				t.Errorf("%s audited with actor %+v", detail, e.Actor)
			}
			return
		}
	}
	t.Errorf("no audit event %q", detail)
}

// TestConsoleActions: an administrator's every action works, redirects
// with a notice, and is audited with the administrator as actor.
func TestConsoleActions(t *testing.T) {
	t.Parallel()
	ts := consoleTestSite(t)
	root := ts.browserAs(t, "root", true)
	alice := ts.browserAs(t, "alice", false)
	if _, err := ts.store.EnableTOTP("alice", "x", authstore.AdminActor); err != nil {
		t.Fatal(err)
	}
	tok, pat, err := ts.store.CreatePAT(authstore.NewPAT{UserID: alice.user.ID, Name: "t", Prefix: "qat_", Scopes: []string{"wiki:read"}, ExpiresAt: time.Now().Add(time.Hour)}, authstore.AdminActor)
	if err != nil || tok == "" {
		t.Fatal(err)
	}
	wantStatus(t, root.get(t, "/gatehouse/admin?q=ali"), http.StatusOK, `id="user-alice"`)
	if w := root.get(t, "/gatehouse/admin?q=zzz"); strings.Contains(w.Body.String(), `id="user-alice"`) {
		t.Error("search does not filter")
	}
	wantStatus(t, root.get(t, "/gatehouse/admin?status=admin"), http.StatusOK, `id="user-root"`)

	user := "/gatehouse/admin/users/alice"
	for _, a := range []struct {
		form   url.Values
		done   string
		audit  string
		verify func(u *authstore.User) bool
	}{
		{url.Values{"action": {"tier"}, "tier": {"pro"}}, "tier", "tier pro", func(u *authstore.User) bool { return u.Tier == "pro" }},
		{url.Values{"action": {"scopes"}, "scope": {"wiki:read"}}, "scopes", "scopes wiki:read", func(u *authstore.User) bool { return len(u.Scopes) == 1 }},
		{url.Values{"action": {"member_set"}, "type": {"project"}, "name": {"atlas"}, "role": {"edit"}}, "member", "project:atlas", func(u *authstore.User) bool { return u.Memberships["project:atlas"] == "edit" }},
		{url.Values{"action": {"admin"}, "admin": {"1"}}, "admin", "admin granted", func(u *authstore.User) bool { return u.Admin }},
		{url.Values{"action": {"admin"}, "admin": {"0"}}, "admin", "admin revoked", func(u *authstore.User) bool { return !u.Admin }},
		{url.Values{"action": {"reset_2fa"}}, "reset_2fa", "second factor reset", func(u *authstore.User) bool { return u.TOTPSecret == "" }},
		{url.Values{"action": {"disable"}}, "disabled", "disabled", func(u *authstore.User) bool { return u.Disabled }},
		{url.Values{"action": {"enable"}}, "enabled", "enabled", func(u *authstore.User) bool { return !u.Disabled }},
		{url.Values{"action": {"member_remove"}, "type": {"project"}, "name": {"atlas"}}, "member_removed", "project:atlas", func(u *authstore.User) bool { return u.Memberships["project:atlas"] == "" }},
		{url.Values{"action": {"scopes"}, "all_scopes": {"1"}}, "scopes", "scopes all", func(u *authstore.User) bool { return u.Scopes == nil }},
	} {
		w := root.post(t, user, a.form)
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != user+"?done="+a.done {
			t.Fatalf("%v: %d %s %s", a.form, w.Code, w.Header().Get("Location"), w.Body)
		}
		u, _ := ts.store.UserByLogin("alice")
		if !a.verify(u) {
			t.Errorf("%v did not change alice: %+v", a.form, u)
		}
		auditedBy(t, ts, root.user, a.audit)
		if w := root.get(t, w.Header().Get("Location")); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `id="notice"`) {
			t.Errorf("%v: no notice after", a.form)
		}
	}
	// Refusals change nothing and say why.
	wantStatus(t, root.post(t, user, url.Values{"action": {"tier"}, "tier": {"gold"}}), http.StatusBadRequest, "That did not work")
	wantStatus(t, root.post(t, user, url.Values{"action": {"scopes"}, "scope": {"nope:x"}}), http.StatusBadRequest, "That did not work")
	wantStatus(t, root.post(t, user, url.Values{"action": {"member_set"}, "type": {"planet"}, "name": {"x"}, "role": {"edit"}}), http.StatusBadRequest, "")
	wantStatus(t, root.post(t, "/gatehouse/admin/users/root", url.Values{"action": {"disable"}}), http.StatusBadRequest, "cannot disable yourself")
	wantStatus(t, root.post(t, "/gatehouse/admin/users/root", url.Values{"action": {"admin"}, "admin": {"0"}}), http.StatusBadRequest, "from yourself")
	wantStatus(t, root.get(t, "/gatehouse/admin/users/ghost"), http.StatusNotFound, "no such user")
	wantStatus(t, root.get(t, "/gatehouse/admin/nope"), http.StatusNotFound, "no such console page")
	if u, _ := ts.store.UserByLogin("alice"); u.Tier != "pro" {
		t.Errorf("a refused change changed alice: %+v", u)
	}

	// Tokens and sessions, fleet-wide, filtered, revoked.
	wantStatus(t, root.get(t, "/gatehouse/admin/tokens?user=alice"), http.StatusOK, "token-"+pat.ID)
	if w := root.post(t, "/gatehouse/admin/tokens", url.Values{"token_id": {pat.ID}}); w.Code != http.StatusSeeOther {
		t.Fatalf("revoke token: %d %s", w.Code, w.Body)
	}
	auditedBy(t, ts, root.user, "token.revoked")
	if w := root.get(t, "/gatehouse/admin/tokens"); strings.Contains(w.Body.String(), "token-"+pat.ID) {
		t.Error("a revoked token is listed among the active ones")
	}
	wantStatus(t, root.get(t, "/gatehouse/admin/tokens?status=revoked"), http.StatusOK, "token-"+pat.ID)
	wantStatus(t, root.post(t, "/gatehouse/admin/tokens", url.Values{"token_id": {"tok_nope"}}), http.StatusNotFound, "That did not work")
	wantStatus(t, root.get(t, "/gatehouse/admin/sessions?kind=browser&user=alice"), http.StatusOK, "session-"+alice.sid)
	if w := root.post(t, "/gatehouse/admin/sessions", url.Values{"session_id": {alice.sid}}); w.Code != http.StatusSeeOther {
		t.Fatalf("revoke session: %d", w.Code)
	}
	auditedBy(t, ts, root.user, alice.sid)
	if w := alice.get(t, "/account/sessions"); w.Code != http.StatusSeeOther {
		t.Errorf("a session the admin ended still works: %d", w.Code)
	}

	// Revoke everything.
	b2 := ts.newBrowser(t, alice.user)
	if w := root.post(t, user, url.Values{"action": {"revoke_all"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("revoke all: %d", w.Code)
	}
	if w := b2.get(t, "/account/sessions"); w.Code != http.StatusSeeOther {
		t.Error("revoke all left a session")
	}

	// Memberships page.
	if w := root.post(t, "/gatehouse/admin/members", url.Values{"action": {"member_set"}, "user": {"alice"}, "type": {"project"}, "name": {"zoo"}, "role": {"read"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("members set: %d %s", w.Code, w.Body)
	}
	wantStatus(t, root.get(t, "/gatehouse/admin/members"), http.StatusOK, "project:zoo")
	wantStatus(t, root.post(t, "/gatehouse/admin/members", url.Values{"action": {"member_set"}, "user": {"ghost"}, "type": {"project"}, "name": {"zoo"}, "role": {"read"}}), http.StatusNotFound, "")

	// The audit trail, with logins, filtered and paged.
	w := root.get(t, "/gatehouse/admin/audit?user=alice&actor=root&action=user")
	wantStatus(t, w, http.StatusOK, `<a href="/gatehouse/admin/users/root">root</a>`)
	if strings.Contains(w.Body.String(), "usr_") {
		t.Error("the audit trail shows ids instead of logins")
	}
	wantStatus(t, root.get(t, "/gatehouse/admin/audit?since=yesterday"), http.StatusBadRequest, "YYYY-MM-DD")
	wantStatus(t, root.get(t, "/gatehouse/admin/audit?since="+time.Now().UTC().Add(48*time.Hour).Format("2006-01-02")), http.StatusOK, "no-events")
	for i := range 60 {
		if _, err := ts.store.CreateUser(authstore.NewUser{Login: "filler" + strings.Repeat("x", i%5) + string(rune('a'+i%26)) + string(rune('a'+i/26))}, authstore.AdminActor); err != nil {
			t.Fatal(err)
		}
	}
	page1 := root.get(t, "/gatehouse/admin/audit").Body.String()
	next := regexp.MustCompile(`href="([^"]*before=[0-9]+[^"]*)" id="next-page"`).FindStringSubmatch(page1)
	if next == nil {
		t.Fatal("no next page after 50 events")
	}
	page2 := root.get(t, strings.ReplaceAll(next[1], "&amp;", "&")).Body.String()
	first := regexp.MustCompile(`id="event-([0-9]+)"`).FindAllStringSubmatch(page1, -1)
	second := regexp.MustCompile(`id="event-([0-9]+)"`).FindAllStringSubmatch(page2, -1)
	seq := func(m []string) int { n, _ := strconv.Atoi(m[1]); return n }
	if len(first) != 50 || len(second) == 0 || seq(second[0]) >= seq(first[len(first)-1]) {
		t.Errorf("paging: %d then %d events (%v after %v)", len(first), len(second), second[0], first[len(first)-1])
	}
}

// TestConsoleCreateUserWithLink: the new user gets a one-time link that
// sets the password once, and signs them in.
func TestConsoleCreateUserWithLink(t *testing.T) {
	t.Parallel()
	ts := consoleTestSite(t)
	root := ts.browserAs(t, "root", true)
	w := root.post(t, "/gatehouse/admin", url.Values{"action": {"create"}, "login": {"Carol"}, "tier": {"pro"}})
	wantStatus(t, w, http.StatusCreated, `id="password-link"`)
	m := regexp.MustCompile(`<code id="password-link">http://[^/]+/account/set-password#([^<]+)</code>`).FindStringSubmatch(w.Body.String())
	if m == nil {
		t.Fatalf("no link: %s", w.Body)
	}
	frag, _ := url.ParseQuery(strings.ReplaceAll(m[1], "&amp;", "&"))
	auditedBy(t, ts, root.user, "password link issued")
	wantStatus(t, root.post(t, "/gatehouse/admin", url.Values{"action": {"create"}, "login": {"carol"}}), http.StatusConflict, "")
	wantStatus(t, root.post(t, "/gatehouse/admin", url.Values{"action": {"create"}, "login": {"bad login!"}}), http.StatusBadRequest, "")

	anon := &browser{ts: ts}
	wantStatus(t, anon.get(t, "/account/set-password"), http.StatusOK, "set-password-form")
	set := func(tok, pw string) *httptest.ResponseRecorder {
		return anon.post(t, "/account/set-password", url.Values{"u": {frag.Get("u")}, "t": {tok}, "password": {pw}, "password_confirm": {pw}})
	}
	wantStatus(t, set(frag.Get("t")[:len(frag.Get("t"))-1]+"x", "carol password"), http.StatusForbidden, "Ask your administrator")
	wantStatus(t, set(frag.Get("t"), "short"), http.StatusBadRequest, "at least 8")
	w = set(frag.Get("t"), "carol password")
	if w.Code != http.StatusSeeOther || len(w.Result().Cookies()) == 0 {
		t.Fatalf("set: %d %s", w.Code, w.Body)
	}
	wantStatus(t, set(frag.Get("t"), "carol password 2"), http.StatusForbidden, "Ask your administrator")
	if u, _ := ts.store.UserByLogin("carol"); u.Tier != "pro" || u.PasswordLink != nil || u.PasswordHash == "" {
		t.Errorf("carol: %+v", u)
	}
}

// TestConsoleMovedAndOff: the console moves with its whole tree, and an
// endpoint that is off is not served (the host's rules get the request)
// nor linked from the pages.
func TestConsoleMovedAndOff(t *testing.T) {
	t.Parallel()
	ts := consoleTestSite(t)
	site, err := New(Config{Paths: map[string]string{"console": "/ops"}, Off: []string{"account_sessions"},
		Policy: ts.policy, Gate: ts.gate, Facts: ts.facts, Service: ts.svc})
	if err != nil {
		t.Fatal(err)
	}
	moved := &testSite{Site: site, store: ts.store}
	root := moved.browserAs(t, "root", true)
	wantStatus(t, root.get(t, "/ops/audit"), http.StatusOK, `id="audit"`)
	page := root.get(t, "/ops").Body.String()
	if !strings.Contains(page, `href="/ops/tokens"`) || strings.Contains(page, "/gatehouse/admin") || strings.Contains(page, "nav-sessions") {
		t.Errorf("links on the moved console:\n%.3000s", page)
	}
	for _, p := range []string{"/gatehouse/admin", "/account/sessions", "/opsx"} {
		if moved.Serves(httptest.NewRequest("GET", p, nil)) {
			t.Errorf("%s is still served", p)
		}
	}
	if _, err := New(Config{Off: []string{"consol"}, Policy: ts.policy, Gate: ts.gate, Facts: ts.facts, Service: ts.svc}); err == nil {
		t.Error("an unknown endpoint turned off")
	}
}
