package adminapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/service"
)

// testGlobal is the policy of every test API: three scopes, two tiers,
// a project resource with three roles.
func testGlobal() config.Global {
	return config.Global{
		TokenPrefix: "qat_",
		Scopes:      []string{"papers:read", "papers:write", "wiki:read"},
		PATMaxDays:  30,
		Tiers:       []config.Tier{{Name: "free", Rate: "60/1m"}, {Name: "pro", Rate: "600/1m"}},
		Resources:   []config.ResourceType{{Name: "project", Roles: []string{"read", "edit", "manage"}}},
	}
}

// testAPI is the admin API over a fresh store, with the service it
// works on.
type testAPI struct {
	http.Handler
	svc *service.Service
}

func newTestAPI(t *testing.T) *testAPI {
	t.Helper()
	policy, err := service.CompilePolicy(testGlobal())
	if err != nil {
		t.Fatal(err)
	}
	store, err := authstore.Open(filepath.Join(t.TempDir(), "gatehouse.db"), authstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	svc := &service.Service{Store: store, Policy: policy, Logins: service.NewBackoff()}
	return &testAPI{Handler: New(Config{Service: func() *service.Service { return svc }}), svc: svc}
}

// do sends method path with a JSON body (none when body is "").
func (a *testAPI) do(method, path, body string) *httptest.ResponseRecorder {
	return a.doType(method, path, "application/json", body)
}

func (a *testAPI) doType(method, path, ct, body string) *httptest.ResponseRecorder {
	var r *http.Request
	if body == "" {
		r = httptest.NewRequest(method, path, nil)
	} else {
		r = httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Content-Type", ct)
	}
	w := httptest.NewRecorder()
	a.ServeHTTP(w, r)
	return w
}

// mustDo is do, failing the test unless the status is want.
func (a *testAPI) mustDo(t *testing.T, want int, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	w := a.do(method, path, body)
	if w.Code != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, w.Code, w.Body, want)
	}
	return w
}

// decodeAs decodes a JSON answer into a T, failing on anything else.
func decodeAs[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q, want JSON; body %s", ct, w.Body)
	}
	var v T
	dec := json.NewDecoder(bytes.NewReader(w.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decoding %s into %T: %v", w.Body, v, err)
	}
	return v
}

// user creates login through the API.
func (a *testAPI) user(t *testing.T, login string) api.UserInfo {
	t.Helper()
	return decodeAs[api.UserInfo](t, a.mustDo(t, http.StatusCreated, "POST", "/gatehouse/users", `{"login":"`+login+`"}`))
}

// TestRefusals: every refused admin request answers with its status and
// the JSON {"error","message"} body, and changes nothing.
func TestRefusals(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	a.user(t, "alice")
	for _, tc := range []struct {
		name         string
		method, path string
		ct, body     string
		status       int
		code         string
		message      string // substring
	}{
		{"create user: form body", "POST", "/gatehouse/users", "application/x-www-form-urlencoded", "login=bob", 415, "invalid_request", "Content-Type: application/json"},
		{"create user: no body", "POST", "/gatehouse/users", "", "", 415, "invalid_request", "JSON"},
		{"create user: malformed JSON", "POST", "/gatehouse/users", "application/json", `{"login":`, 400, "invalid_request", "malformed"},
		{"create user: unknown field", "POST", "/gatehouse/users", "application/json", `{"login":"bob","teir":"pro"}`, 400, "invalid_request", `unknown field "teir"`},
		{"create user: wrong type", "POST", "/gatehouse/users", "application/json", `{"login":7}`, 400, "invalid_request", "login has the wrong type"},
		{"create user: trailing data", "POST", "/gatehouse/users", "application/json", `{"login":"bob"}{}`, 400, "invalid_request", "nothing after it"},
		{"create user: null", "POST", "/gatehouse/users", "application/json", `null`, 400, "invalid_request", "must be a JSON object"},
		{"create user: non-UTF-8", "POST", "/gatehouse/users", "application/json", "{\"login\":\"b\xffb\"}", 400, "invalid_request", "UTF-8"},
		{"create user: bad login", "POST", "/gatehouse/users", "application/json", `{"login":"no spaces allowed"}`, 400, "invalid_request", ""},
		{"create user: unknown tier", "POST", "/gatehouse/users", "application/json", `{"login":"bob","tier":"gold"}`, 400, "invalid_request", "gold"},
		{"create user: unknown scope", "POST", "/gatehouse/users", "application/json", `{"login":"bob","scopes":["nope:x"]}`, 400, "invalid_request", "nope:x"},
		{"create user: exists", "POST", "/gatehouse/users", "application/json", `{"login":"alice"}`, 409, "conflict", ""},
		{"disable: unknown user", "POST", "/gatehouse/users/nobody/disable", "", "", 404, "not_found", "nobody"},
		{"enable: unknown user", "POST", "/gatehouse/users/nobody/enable", "", "", 404, "not_found", "nobody"},
		{"tier: unknown user", "POST", "/gatehouse/users/nobody/tier", "application/json", `{"tier":"pro"}`, 404, "not_found", ""},
		{"tier: unknown tier", "POST", "/gatehouse/users/alice/tier", "application/json", `{"tier":"gold"}`, 400, "invalid_request", "gold"},
		{"tier: bad JSON", "POST", "/gatehouse/users/alice/tier", "application/json", `{"tier":1}`, 400, "invalid_request", "tier has the wrong type"},
		{"tier: text body", "POST", "/gatehouse/users/alice/tier", "text/plain", `pro`, 415, "invalid_request", ""},
		{"tokens: unknown user", "GET", "/gatehouse/tokens?user=nobody", "", "", 404, "not_found", ""},
		{"create token: unknown user", "POST", "/gatehouse/tokens", "application/json", `{"user":"nobody","name":"n","scopes":["wiki:read"],"expires_days":7}`, 404, "not_found", ""},
		{"create token: unknown scope", "POST", "/gatehouse/tokens", "application/json", `{"user":"alice","name":"n","scopes":["nope:x"],"expires_days":7}`, 400, "invalid_request", ""},
		{"create token: too long", "POST", "/gatehouse/tokens", "application/json", `{"user":"alice","name":"n","scopes":["wiki:read"],"expires_days":31}`, 400, "invalid_request", ""},
		{"create token: bad name", "POST", "/gatehouse/tokens", "application/json", `{"user":"alice","name":"\u0000","scopes":["wiki:read"],"expires_days":7}`, 400, "invalid_request", "token name"},
		{"create token: bad JSON", "POST", "/gatehouse/tokens", "application/json", `[]`, 400, "invalid_request", "JSON object"},
		{"revoke token: unknown", "DELETE", "/gatehouse/tokens/tok_nope", "", "", 404, "not_found", "tok_nope"},
		{"audit: limit 0", "GET", "/gatehouse/audit?limit=0", "", "", 400, "invalid_request", `limit "0": want a positive number`},
		{"audit: negative limit", "GET", "/gatehouse/audit?limit=-3", "", "", 400, "invalid_request", "positive number"},
		{"audit: limit not a number", "GET", "/gatehouse/audit?limit=ten", "", "", 400, "invalid_request", `limit "ten"`},
		{"audit: unknown user", "GET", "/gatehouse/audit?user=nobody", "", "", 404, "not_found", ""},
		{"members: unknown user", "GET", "/gatehouse/members?user=nobody", "", "", 404, "not_found", ""},
		{"set member: unknown user", "PUT", "/gatehouse/members", "application/json", `{"user":"nobody","type":"project","name":"atlas","role":"edit"}`, 404, "not_found", ""},
		{"set member: unknown type", "PUT", "/gatehouse/members", "application/json", `{"user":"alice","type":"team","name":"atlas","role":"edit"}`, 400, "invalid_request", "team"},
		{"set member: unknown role", "PUT", "/gatehouse/members", "application/json", `{"user":"alice","type":"project","name":"atlas","role":"owner"}`, 400, "invalid_request", "owner"},
		{"set member: bad name", "PUT", "/gatehouse/members", "application/json", `{"user":"alice","type":"project","name":"a/b","role":"edit"}`, 400, "invalid_request", "must not contain /"},
		{"set member: form body", "PUT", "/gatehouse/members", "application/x-www-form-urlencoded", `user=alice`, 415, "invalid_request", ""},
		{"remove member: not held", "DELETE", "/gatehouse/members", "application/json", `{"user":"alice","type":"project","name":"atlas"}`, 404, "invalid_request", "alice has no membership on project:atlas"}, // a refusal without a code of its own (problem.From)
		{"remove member: with a role", "DELETE", "/gatehouse/members", "application/json", `{"user":"alice","type":"project","name":"atlas","role":"edit"}`, 400, "invalid_request", "takes no role"},
		{"remove member: unknown type", "DELETE", "/gatehouse/members", "application/json", `{"user":"alice","type":"team","name":"atlas"}`, 400, "invalid_request", "team"},
		{"remove member: unknown user", "DELETE", "/gatehouse/members", "application/json", `{"user":"nobody","type":"project","name":"atlas"}`, 404, "not_found", ""},
		{"remove member: bad JSON", "DELETE", "/gatehouse/members", "application/json", `{"user":"alice","extra":1}`, 400, "invalid_request", "unknown field"},
		{"password: not a hash", "POST", "/gatehouse/users/alice/password", "application/json", `{"password_hash":"hunter2"}`, 400, "invalid_request", "password_hash"},
		{"password: a password field", "POST", "/gatehouse/users/alice/password", "application/json", `{"password":"hunter2"}`, 400, "invalid_request", `unknown field "password"`},
		{"password: unknown user", "POST", "/gatehouse/users/nobody/password", "application/json", `{"password_hash":"` + mustHash(t, "a long password 1") + `"}`, 404, "not_found", ""},
		{"totp: unknown user", "POST", "/gatehouse/users/nobody/totp", "", "", 404, "not_found", ""},
		{"totp off: unknown user", "DELETE", "/gatehouse/users/nobody/totp", "", "", 404, "not_found", ""},
		{"sessions: unknown user", "GET", "/gatehouse/sessions?user=nobody", "", "", 404, "not_found", ""},
		{"revoke session: unknown", "DELETE", "/gatehouse/sessions/ses_nope", "", "", 404, "not_found", ""},
		{"revoke user sessions: unknown user", "DELETE", "/gatehouse/users/nobody/sessions", "", "", 404, "not_found", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, err := a.svc.Store.Audit("", 1000)
			if err != nil {
				t.Fatal(err)
			}
			w := a.doType(tc.method, tc.path, tc.ct, tc.body)
			if w.Code != tc.status {
				t.Fatalf("%d %s, want %d", w.Code, w.Body, tc.status)
			}
			body := decodeAs[api.Error](t, w)
			if body.Error != tc.code || body.Message == "" || !strings.Contains(body.Message, tc.message) || body.Description != "" {
				t.Errorf("body %+v, want error %q and a message with %q", body, tc.code, tc.message)
			}
			if after, _ := a.svc.Store.Audit("", 1000); len(after) != len(before) {
				t.Errorf("a refused request wrote %d audit events", len(after)-len(before))
			}
		})
	}
	users, _ := a.svc.Users()
	if len(users) != 1 || users[0].Login != "alice" || users[0].Tier != "free" || users[0].Disabled || len(users[0].Memberships) != 0 {
		t.Errorf("users after the refusals: %+v", users)
	}
	if pats, _ := a.svc.Store.PATs(""); len(pats) != 0 {
		t.Errorf("%d tokens after the refusals", len(pats))
	}
}

func mustHash(t *testing.T, password string) string {
	t.Helper()
	h, err := authstore.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestRoutesOutsideTheTable: a path no route names is a 404, a known path
// with another method a 405 naming the methods it takes, each with the
// JSON error body.
func TestRoutesOutsideTheTable(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	for _, tc := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/gatehouse/nope", 404, ""},
		{"GET", "/elsewhere", 404, ""},
		{"GET", "/gatehouse/store/backup", 405, "POST"},
		{"PUT", "/gatehouse/status", 405, "GET, HEAD"},
		{"GET", "/gatehouse/tokens/tok_x", 405, "DELETE"},
		{"POST", "/gatehouse/members", 405, "DELETE, GET, HEAD, PUT"},
	} {
		w := a.do(tc.method, tc.path, "")
		if w.Code != tc.status || w.Header().Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d Allow %q, want %d Allow %q", tc.method, tc.path, w.Code, w.Header().Get("Allow"), tc.status, tc.allow)
		}
		var body api.Error
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error == "" || !strings.Contains(body.Message, tc.path) {
			t.Errorf("%s %s: body %q is not the JSON error", tc.method, tc.path, w.Body)
		}
	}
}

func TestStatusAndUsers(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	st := decodeAs[api.Status](t, a.mustDo(t, 200, "GET", "/gatehouse/status", ""))
	if st.Users != 0 || st.Tokens != 0 || st.TokenPrefix != "qat_" || st.Store != a.svc.Store.Path() ||
		strings.Join(st.Tiers, " ") != "free pro" || len(st.Scopes) != 3 {
		t.Errorf("status of an empty store: %+v", st)
	}
	if users := decodeAs[[]api.UserInfo](t, a.mustDo(t, 200, "GET", "/gatehouse/users", "")); users == nil || len(users) != 0 {
		t.Errorf("users of an empty store: %#v, want []", users)
	}

	u := a.user(t, "alice")
	if u.Login != "alice" || u.Tier != "free" || !u.AllScopes || u.Kind != "user" || u.Disabled || u.ID == "" {
		t.Errorf("created %+v", u)
	}
	bob := decodeAs[api.UserInfo](t, a.mustDo(t, 201, "POST", "/gatehouse/users", `{"login":"Bob","tier":"pro","scopes":["wiki:read"]}`))
	if bob.Login != "bob" || bob.Tier != "pro" || bob.AllScopes || strings.Join(bob.Scopes, " ") != "wiki:read" {
		t.Errorf("created %+v", bob)
	}
	users := decodeAs[[]api.UserInfo](t, a.mustDo(t, 200, "GET", "/gatehouse/users", ""))
	if len(users) != 2 {
		t.Fatalf("users: %+v", users)
	}

	dis := decodeAs[api.UserInfo](t, a.mustDo(t, 200, "POST", "/gatehouse/users/alice/disable", ""))
	if !dis.Disabled {
		t.Errorf("disabled: %+v", dis)
	}
	if stored, _ := a.svc.Store.UserByLogin("alice"); !stored.Disabled {
		t.Error("the store does not have alice disabled")
	}
	if en := decodeAs[api.UserInfo](t, a.mustDo(t, 200, "POST", "/gatehouse/users/alice/enable", "")); en.Disabled {
		t.Errorf("enabled: %+v", en)
	}
	if stored, _ := a.svc.Store.UserByLogin("alice"); stored.Disabled {
		t.Error("the store still has alice disabled")
	}
	if tu := decodeAs[api.UserInfo](t, a.mustDo(t, 200, "POST", "/gatehouse/users/alice/tier", `{"tier":"pro"}`)); tu.Tier != "pro" {
		t.Errorf("tier: %+v", tu)
	}
	if stored, _ := a.svc.Store.UserByLogin("alice"); stored.Tier != "pro" {
		t.Errorf("stored tier %q", stored.Tier)
	}
	st = decodeAs[api.Status](t, a.mustDo(t, 200, "GET", "/gatehouse/status", ""))
	if st.Users != 2 {
		t.Errorf("status users %d", st.Users)
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	a.user(t, "alice")
	a.user(t, "bob")
	created := decodeAs[api.CreateTokenResponse](t, a.mustDo(t, 201, "POST", "/gatehouse/tokens",
		`{"user":"alice","name":"ci","scopes":["papers:read"],"expires_days":7}`))
	if !strings.HasPrefix(created.Token, "qat_") || created.Info.User != "alice" || created.Info.Name != "ci" ||
		created.Info.Status != "active" || created.Info.Expires == nil || created.Info.CreatedVia != authstore.ViaAdmin {
		t.Errorf("created %+v", created)
	}
	if p, _, err := a.svc.Store.VerifyPAT(created.Token, "192.0.2.1"); err != nil || p.ID != created.Info.ID {
		t.Fatalf("the minted token does not verify: %v", err)
	}
	a.mustDo(t, 201, "POST", "/gatehouse/tokens", `{"user":"bob","name":"b","scopes":["wiki:read"],"expires_days":1}`)

	all := decodeAs[[]api.TokenInfo](t, a.mustDo(t, 200, "GET", "/gatehouse/tokens", ""))
	if len(all) != 2 || all[0].User != "alice" || all[1].User != "bob" {
		t.Errorf("all tokens: %+v", all)
	}
	mine := decodeAs[[]api.TokenInfo](t, a.mustDo(t, 200, "GET", "/gatehouse/tokens?user=alice", ""))
	if len(mine) != 1 || mine[0].ID != created.Info.ID {
		t.Errorf("alice's tokens: %+v", mine)
	}
	if strings.Contains(a.do("GET", "/gatehouse/tokens", "").Body.String(), created.Token) {
		t.Error("the token list holds a plaintext token")
	}

	rev := decodeAs[api.TokenInfo](t, a.mustDo(t, 200, "DELETE", "/gatehouse/tokens/"+created.Info.ID, ""))
	if rev.ID != created.Info.ID || rev.Status != "revoked" {
		t.Errorf("revoked %+v", rev)
	}
	if _, _, err := a.svc.Store.VerifyPAT(created.Token, "192.0.2.1"); err == nil {
		t.Error("the revoked token still verifies")
	}
	// Revoking again answers the same record.
	if again := decodeAs[api.TokenInfo](t, a.mustDo(t, 200, "DELETE", "/gatehouse/tokens/"+created.Info.ID, "")); again.Status != "revoked" {
		t.Errorf("revoked again: %+v", again)
	}
}

func TestAudit(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	alice := a.user(t, "alice")
	a.user(t, "bob")
	a.mustDo(t, 200, "POST", "/gatehouse/users/alice/disable", "")

	all := decodeAs[[]api.AuditEvent](t, a.mustDo(t, 200, "GET", "/gatehouse/audit", ""))
	if len(all) != 3 {
		t.Fatalf("audit: %+v", all)
	}
	one := decodeAs[[]api.AuditEvent](t, a.mustDo(t, 200, "GET", "/gatehouse/audit?limit=1", ""))
	if len(one) != 1 || one[0].Seq != all[0].Seq || one[0].UserID != alice.ID || one[0].Actor.Kind != authstore.ActorAdmin {
		t.Errorf("audit limit=1: %+v (all: %+v)", one, all)
	}
	mine := decodeAs[[]api.AuditEvent](t, a.mustDo(t, 200, "GET", "/gatehouse/audit?user=alice&limit=50", ""))
	if len(mine) != 2 {
		t.Errorf("alice's audit: %+v", mine)
	}
	for _, e := range mine {
		if e.UserID != alice.ID {
			t.Errorf("alice's audit holds %+v", e)
		}
	}
}

func TestStore(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	a.user(t, "alice")

	check := decodeAs[api.StoreCheck](t, a.mustDo(t, 200, "GET", "/gatehouse/store/check", ""))
	if check.Problems == nil || len(check.Problems) != 0 || check.Store != a.svc.Store.Path() {
		t.Errorf("check: %+v", check)
	}
	if w := a.mustDo(t, 200, "GET", "/gatehouse/store/check", ""); !strings.Contains(w.Body.String(), `"problems":[]`) {
		t.Errorf("no problems is not []: %s", w.Body)
	}

	k1 := decodeAs[api.RotateKeyResponse](t, a.mustDo(t, 200, "POST", "/gatehouse/store/rotate-key", ""))
	k2 := decodeAs[api.RotateKeyResponse](t, a.mustDo(t, 200, "POST", "/gatehouse/store/rotate-key", ""))
	if k1.KeyID == "" || k1.KeyID == k2.KeyID {
		t.Errorf("rotated keys %q then %q", k1.KeyID, k2.KeyID)
	}

	w := a.mustDo(t, 200, "POST", "/gatehouse/store/backup", "")
	if ct := w.Header().Get("Content-Type"); ct != "application/octet-stream" {
		t.Errorf("backup Content-Type %q", ct)
	}
	// The backup is a store: it opens, and holds alice.
	path := filepath.Join(t.TempDir(), "backup.db")
	if err := os.WriteFile(path, w.Body.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	restored, err := authstore.Open(path, authstore.Options{})
	if err != nil {
		t.Fatalf("the backup does not open as a store: %v", err)
	}
	defer restored.Close()
	if _, err := restored.UserByLogin("alice"); err != nil {
		t.Errorf("the backup lacks alice: %v", err)
	}
}

func TestMembers(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	a.user(t, "alice")
	a.user(t, "bob")
	set := decodeAs[api.MembershipChange](t, a.mustDo(t, 200, "PUT", "/gatehouse/members", `{"user":"alice","type":"project","name":"atlas","role":"edit"}`))
	if set != (api.MembershipChange{User: "alice", Type: "project", Name: "atlas", Resource: "project:atlas", Role: "edit"}) {
		t.Errorf("set: %+v", set)
	}
	up := decodeAs[api.MembershipChange](t, a.mustDo(t, 200, "PUT", "/gatehouse/members", `{"user":"alice","type":"project","name":"atlas","role":"manage"}`))
	if up.Role != "manage" || up.Previous != "edit" {
		t.Errorf("raised: %+v", up)
	}
	a.mustDo(t, 200, "PUT", "/gatehouse/members", `{"user":"bob","type":"project","name":"zeus","role":"read"}`)

	all := decodeAs[[]api.Membership](t, a.mustDo(t, 200, "GET", "/gatehouse/members", ""))
	if len(all) != 2 {
		t.Errorf("members: %+v", all)
	}
	mine := decodeAs[[]api.Membership](t, a.mustDo(t, 200, "GET", "/gatehouse/members?user=alice", ""))
	if len(mine) != 1 || mine[0] != (api.Membership{User: "alice", Type: "project", Name: "atlas", Role: "manage", Resource: "project:atlas", Declared: true}) {
		t.Errorf("alice's members: %+v", mine)
	}

	rm := decodeAs[api.MembershipChange](t, a.mustDo(t, 200, "DELETE", "/gatehouse/members", `{"user":"alice","type":"project","name":"atlas"}`))
	if rm.Previous != "manage" || rm.Role != "" {
		t.Errorf("removed: %+v", rm)
	}
	if u, _ := a.svc.Store.UserByLogin("alice"); len(u.Memberships) != 0 {
		t.Errorf("alice still holds %v", u.Memberships)
	}
	a.mustDo(t, 404, "DELETE", "/gatehouse/members", `{"user":"alice","type":"project","name":"atlas"}`)
}

func TestPasswordAndTOTP(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	a.user(t, "alice")
	u, _ := a.svc.Store.UserByLogin("alice")
	if _, err := a.svc.StartCLISession(u, "192.0.2.1", "test"); err != nil {
		t.Fatal(err)
	}

	hash := mustHash(t, "a long password 1")
	pw := decodeAs[api.SetPasswordResponse](t, a.mustDo(t, 200, "POST", "/gatehouse/users/alice/password", `{"password_hash":"`+hash+`"}`))
	if !pw.User.Password || pw.SessionsRevoked != 1 {
		t.Errorf("password set: %+v, want the password and 1 session revoked", pw)
	}
	if _, err := a.svc.CheckPassword(t.Context(), "alice", "a long password 1", "", "192.0.2.1"); err != nil {
		t.Errorf("the new password does not check: %v", err)
	}

	on := decodeAs[api.TOTPResponse](t, a.mustDo(t, 200, "POST", "/gatehouse/users/alice/totp", ""))
	if !on.User.TOTP || !strings.HasPrefix(on.URL, "otpauth://totp/") {
		t.Errorf("totp on: %+v", on)
	}
	w := a.mustDo(t, 409, "POST", "/gatehouse/users/alice/totp", "")
	if e := decodeAs[api.Error](t, w); !strings.Contains(e.Message, "already enabled") {
		t.Errorf("totp twice: %+v", e)
	}
	off := decodeAs[api.TOTPResponse](t, a.mustDo(t, 200, "DELETE", "/gatehouse/users/alice/totp", ""))
	if off.User.TOTP || off.URL != "" {
		t.Errorf("totp off: %+v", off)
	}
	if stored, _ := a.svc.Store.UserByLogin("alice"); stored.TOTPSecret != "" {
		t.Error("the store still has TOTP for alice")
	}
}

func TestSessions(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	a.user(t, "alice")
	a.user(t, "bob")
	alice, _ := a.svc.Store.UserByLogin("alice")
	bob, _ := a.svc.Store.UserByLogin("bob")
	var ids []string
	for _, u := range []*authstore.User{alice, alice, bob} {
		tok, err := a.svc.StartCLISession(u, "192.0.2.1", "test agent")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tok.SessionID)
	}

	all := decodeAs[[]api.SessionInfo](t, a.mustDo(t, 200, "GET", "/gatehouse/sessions", ""))
	if len(all) != 3 {
		t.Fatalf("sessions: %+v", all)
	}
	mine := decodeAs[[]api.SessionInfo](t, a.mustDo(t, 200, "GET", "/gatehouse/sessions?user=alice", ""))
	if len(mine) != 2 || mine[0].User != "alice" || mine[0].Kind != "cli" || mine[0].Status != "active" || mine[0].UserAgent != "test agent" {
		t.Errorf("alice's sessions: %+v", mine)
	}

	one := decodeAs[api.SessionInfo](t, a.mustDo(t, 200, "DELETE", "/gatehouse/sessions/"+ids[2], ""))
	if one.ID != ids[2] || one.Status != "revoked" || one.Revoked == nil {
		t.Errorf("revoked %+v", one)
	}
	if s, _ := a.svc.Store.Session(ids[2]); s == nil || s.RevokedAt.IsZero() {
		t.Errorf("bob's session is not revoked in the store: %+v", s)
	}
	n := decodeAs[api.RevokeSessionsResponse](t, a.mustDo(t, 200, "DELETE", "/gatehouse/users/alice/sessions", ""))
	if n.User != "alice" || n.Revoked != 2 {
		t.Errorf("revoked alice's sessions: %+v", n)
	}
	for _, s := range decodeAs[[]api.SessionInfo](t, a.mustDo(t, 200, "GET", "/gatehouse/sessions", "")) {
		if s.Status != "revoked" {
			t.Errorf("session %s still %s", s.ID, s.Status)
		}
	}
}

// TestServiceLookedUpPerRequest: New does not call Service; each request
// does, so the adapter may open the store after building the handler.
func TestServiceLookedUpPerRequest(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	var svc *service.Service
	h := New(Config{Service: func() *service.Service { return svc }})
	svc = a.svc
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/gatehouse/status", nil))
	if w.Code != 200 {
		t.Errorf("status through a late service: %d %s", w.Code, w.Body)
	}
}

// TestUserWithoutScopes: a user created with "scopes": [] holds no scope,
// as the answer to the creation says, also once read back from the store
// (an empty list once read back as absent, which means every scope).
func TestUserWithoutScopes(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	created := decodeAs[api.UserInfo](t, a.mustDo(t, 201, "POST", "/gatehouse/users", `{"login":"bot","scopes":[]}`))
	if created.AllScopes || len(created.Scopes) != 0 {
		t.Fatalf("created %+v, want no scopes", created)
	}
	for _, u := range decodeAs[[]api.UserInfo](t, a.mustDo(t, 200, "GET", "/gatehouse/users", "")) {
		if u.AllScopes || len(u.Scopes) != 0 {
			t.Errorf("listed %+v, want no scopes", u)
		}
	}
	stored, err := a.svc.Store.UserByLogin("bot")
	if err != nil {
		t.Fatal(err)
	}
	if stored.HasScope("wiki:read") {
		t.Errorf("the stored user holds wiki:read (scopes %#v)", stored.Scopes)
	}
}

// TestSetAdmin: the administrator role is granted and taken back through
// its route, shows in the user's answer and in the stored user; an
// unknown user is a 404 and a body that is not the request a 400.
func TestSetAdmin(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	a.user(t, "alice")
	if u := decodeAs[api.UserInfo](t, a.mustDo(t, http.StatusOK, "POST", "/gatehouse/users/alice/admin", `{"admin":true}`)); !u.Admin {
		t.Errorf("granted: %+v", u)
	}
	if u, err := a.svc.Store.UserByLogin("alice"); err != nil || !u.Admin {
		t.Errorf("stored after the grant: %+v %v", u, err)
	}
	if u := decodeAs[api.UserInfo](t, a.mustDo(t, http.StatusOK, "POST", "/gatehouse/users/alice/admin", `{"admin":false}`)); u.Admin {
		t.Errorf("taken back: %+v", u)
	}
	if u, _ := a.svc.Store.UserByLogin("alice"); u.Admin {
		t.Error("still an administrator in the store")
	}
	a.mustDo(t, http.StatusNotFound, "POST", "/gatehouse/users/nobody/admin", `{"admin":true}`)
	a.mustDo(t, http.StatusBadRequest, "POST", "/gatehouse/users/alice/admin", `{"admin":"yes"}`)
}
