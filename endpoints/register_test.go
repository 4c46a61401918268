package endpoints

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/gate"
	"github.com/gatehouse/gatehouse/internal/clock"
	"github.com/gatehouse/gatehouse/ratelimit"
)

// registrationSite is a site with open registration: tier free, scopes
// wiki:read and papers:read, and a per-IP budget of limit registrations
// an hour.
func registrationSite(t *testing.T, limit int) *testSite {
	t.Helper()
	s := newTestSite(t, config.Global{
		TokenPrefix: "qat_", Scopes: []string{"wiki:read", "papers:read", "papers:write"},
		Tiers:        []config.Tier{{Name: "free", Rate: "1000/1m"}},
		Registration: &config.Registration{Tiers: []string{"free"}, Scopes: []string{"wiki:read", "papers:read"}, Limit: strconv.Itoa(limit) + "/1h"},
	}, nil)
	policy := ratelimit.Policy{Name: "registration", Count: limit, Window: time.Hour, Burst: limit}
	lim, err := ratelimit.New(policy, ratelimit.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	s.registration = gate.NewBudget(lim, policy, nil)
	return s
}

// TestRegistrationDisabled: where registration is not configured, both
// of its endpoints are not there.
func TestRegistrationDisabled(t *testing.T) {
	t.Parallel()
	s := defaultTestSite(t)
	alice := s.user(t, "alice", "", nil)
	tok, _ := s.pat(t, alice, "wiki:read")
	wantError(t, s.serve(postJSON("/v1/auth/register", `{"agent_id":"bot","scopes":["wiki:read"]}`)), 404, "not_found", "not enabled")
	wantError(t, s.serve(withBearer(postJSON("/v1/auth/revoke", `{"key_prefix":"qat_"}`), tok)), 404, "not_found", "not enabled")
	if n, _ := s.store.CountUsers(); n != 1 {
		t.Errorf("%d users", n)
	}
}

func TestRegister(t *testing.T) {
	t.Parallel()
	s := registrationSite(t, 100)
	register := func(body string) *http.Request { return postJSON("/v1/auth/register", body) }
	for _, tc := range []struct {
		name   string
		r      *http.Request
		status int
		code   string
		msg    string
	}{
		{"form body", postForm("/v1/auth/register", url.Values{"agent_id": {"bot"}}), 415, "unsupported_media_type", "application/json"},
		{"unknown field", register(`{"agent_id":"bot","scopes":["wiki:read"],"admin":true}`), 400, "invalid_request", `unknown field "admin"`},
		{"bad agent_id", register(`{"agent_id":"a b","scopes":["wiki:read"]}`), 400, "invalid_request", "agent_id"},
		{"reserved agent_id", register(`{"agent_id":"admin","scopes":["wiki:read"]}`), 400, "invalid_request", "reserved"},
		{"no scope", register(`{"agent_id":"bot"}`), 400, "invalid_scope", "at least one scope"},
		{"a scope not open", register(`{"agent_id":"bot","scopes":["papers:write"]}`), 400, "invalid_scope", "papers:write"},
		{"a tier not open", register(`{"agent_id":"bot","scopes":["wiki:read"],"tier":"pro"}`), 400, "invalid_tier", "pro"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, s.serve(tc.r), tc.status, tc.code, tc.msg)
		})
	}
	if n, _ := s.store.CountUsers(); n != 0 {
		t.Fatalf("%d users after refused registrations", n)
	}

	got := decodeAs[api.RegisterResponse](t, s.mustServe(t, 201, register(`{"agent_id":"Bot-1","scopes":["wiki:read","wiki:read"]}`)))
	key := got.Data
	if !strings.HasPrefix(key.APIKey, "qat_") || key.KeyPrefix != authstore.KeyPrefix("qat_", key.APIKey) || len(key.KeyPrefix) <= 4 ||
		strings.Join(key.Scopes, " ") != "wiki:read" || key.Tier != "free" || key.CreatedAt.IsZero() ||
		!strings.Contains(got.Message, "agent bot-1 registered") || !strings.Contains(got.Message, "POST /v1/auth/revoke") {
		t.Errorf("registered %+v", got)
	}
	agent, err := s.store.UserByLogin("bot-1")
	if err != nil || agent.Kind != authstore.KindAgent || strings.Join(agent.Scopes, " ") != "wiki:read" {
		t.Fatalf("the agent: %+v %v", agent, err)
	}
	me := decodeAs[api.Whoami](t, s.mustServe(t, 200, withBearer(newRequest("GET", "/api/whoami", "", ""), key.APIKey)))
	if me.Login != "bot-1" || me.Credential != "pat" {
		t.Errorf("whoami with the key: %+v", me)
	}
	wantError(t, s.serve(register(`{"agent_id":"bot-1","scopes":["wiki:read"]}`)), 409, "agent_id_taken", "already registered")
	if n, _ := s.store.CountUsers(); n != 1 {
		t.Errorf("%d users after a taken agent_id", n)
	}
}

// TestRegisterBudget: every attempt, refused or not, draws on the client
// IP's registration budget; another IP has its own; the tier budgets are
// not touched.
func TestRegisterBudget(t *testing.T) {
	t.Cleanup(clock.Stop(time.Now()))
	s := registrationSite(t, 3)
	register := func(ip, body string) *httptest.ResponseRecorder {
		r := postJSON("/v1/auth/register", body)
		r.RemoteAddr = ip + ":1234"
		return s.serve(r)
	}
	if w := register(testIP, `{"agent_id":"a1","scopes":["wiki:read"]}`); w.Code != 201 {
		t.Fatalf("first: %d %s", w.Code, w.Body)
	}
	if w := register(testIP, `{"agent_id":"a2","scopes":["nope"]}`); w.Code != 400 {
		t.Fatalf("second: %d %s", w.Code, w.Body)
	}
	w := register(testIP, `{"agent_id":"a3","scopes":["wiki:read"]}`)
	if w.Code != 201 || w.Header().Get("RateLimit") == "" {
		t.Fatalf("third: %d %s, RateLimit %q", w.Code, w.Body, w.Header().Get("RateLimit"))
	}
	w = register(testIP, `{"agent_id":"a4","scopes":["wiki:read"]}`)
	e := wantError(t, w, 429, "rate_limited", "")
	if w.Header().Get("Retry-After") == "" {
		t.Errorf("429 without Retry-After: %+v %v", e, w.Header())
	}
	if _, err := s.store.UserByLogin("a4"); err == nil {
		t.Error("a refused registration created its agent")
	}
	if w := register("198.51.100.7", `{"agent_id":"a5","scopes":["wiki:read"]}`); w.Code != 201 {
		t.Errorf("another IP: %d %s", w.Code, w.Body)
	}
	clock.Advance(20 * time.Minute) // one registration comes back
	if w := register(testIP, `{"agent_id":"a6","scopes":["wiki:read"]}`); w.Code != 201 {
		t.Errorf("after 20 minutes: %d %s", w.Code, w.Body)
	}
}

// TestRegisterRevoke: POST /v1/auth/revoke with the key as Bearer and its
// key_prefix in the body revokes that key, and nothing else does.
func TestRegisterRevoke(t *testing.T) {
	t.Parallel()
	s := registrationSite(t, 100)
	key := decodeAs[api.RegisterResponse](t, s.mustServe(t, 201, postJSON("/v1/auth/register", `{"agent_id":"bot","scopes":["wiki:read"]}`))).Data
	other := decodeAs[api.RegisterResponse](t, s.mustServe(t, 201, postJSON("/v1/auth/register", `{"agent_id":"bot2","scopes":["wiki:read"]}`))).Data
	s.user(t, "alice", testPassword, nil)
	c := s.signIn(t, "alice")
	revoke := func(body string) *http.Request { return postJSON("/v1/auth/revoke", body) }
	live := func(k string) bool {
		_, _, err := s.store.VerifyPAT(k, testIP)
		return err == nil
	}

	wantError(t, s.serve(revoke(`{"key_prefix":"`+key.KeyPrefix+`"}`)), 401, "unauthorized", "")
	wantError(t, s.serve(withBearer(revoke(`{}`), "qat_"+strings.Repeat("x", 36))), 401, "invalid_token", "")
	w := s.serve(withCookie(revoke(`{"key_prefix":"`+key.KeyPrefix+`"}`), c))
	wantError(t, w, 400, "invalid_request", "Authorization: Bearer <api_key>")
	for _, tc := range []struct {
		name   string
		r      *http.Request
		status int
		code   string
		msg    string
	}{
		{"no key_prefix", withBearer(revoke(`{}`), key.APIKey), 400, "invalid_request", "give the key's key_prefix"},
		{"another key's prefix", withBearer(revoke(`{"key_prefix":"`+other.KeyPrefix+`"}`), key.APIKey), 400, "invalid_request", "does not match"},
		{"form body", withBearer(postForm("/v1/auth/revoke", url.Values{"key_prefix": {key.KeyPrefix}}), key.APIKey), 415, "unsupported_media_type", ""},
		{"unknown field", withBearer(revoke(`{"key_prefix":"`+key.KeyPrefix+`","all":true}`), key.APIKey), 400, "invalid_request", "unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, s.serve(tc.r), tc.status, tc.code, tc.msg)
		})
	}
	if !live(key.APIKey) || !live(other.APIKey) {
		t.Fatal("a refused revocation revoked a key")
	}
	got := decodeAs[api.RegisterRevokeResponse](t, s.mustServe(t, 200, withBearer(revoke(`{"key_prefix":"`+key.KeyPrefix+`"}`), key.APIKey)))
	if got.Data.KeyPrefix != key.KeyPrefix || !got.Data.Revoked || got.Data.RevokedAt.IsZero() || !strings.Contains(got.Message, "revoked") {
		t.Errorf("revoked %+v", got)
	}
	if live(key.APIKey) || !live(other.APIKey) {
		t.Errorf("after the revocation: key live %v, other live %v", live(key.APIKey), live(other.APIKey))
	}
	wantError(t, s.serve(withBearer(revoke(`{"key_prefix":"`+key.KeyPrefix+`"}`), key.APIKey)), 401, "invalid_token", "revoked")
}
