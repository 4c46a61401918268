package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// registrationGlobal opens registration for tier free with two scopes, at
// most 3 attempts per client IP and hour.
const registrationGlobal = tiersGlobal + `
registration {
	tiers free
	scopes wiki:read papers:read
	limit 3/1h
	expires_days 90
}`

// newRegistrationGateway trusts X-Forwarded-For from loopback, so that each
// test case can be its own client IP with its own registration budget.
func newRegistrationGateway(t *testing.T) *gateway {
	t.Helper()
	return newLimitedGateway(t, setup{global: registrationGlobal, servers: trustLoopback})
}

var lastTestIP atomic.Uint32

// freshIP returns an X-Forwarded-For header for a client IP no test used.
func freshIP() string {
	n := lastTestIP.Add(1)
	return fmt.Sprintf("X-Forwarded-For: 198.51.%d.%d", n/250, n%250+1)
}

const jsonType = "Content-Type: application/json"

func (g *gateway) post(path, body string, headers ...string) (*http.Response, []byte) {
	g.t.Helper()
	return g.do(http.MethodPost, path, strings.NewReader(body), headers...)
}

// registered is the data of a successful registration.
type registered struct {
	APIKey    string   `json:"api_key"`
	KeyPrefix string   `json:"key_prefix"`
	Scopes    []string `json:"scopes"`
	Tier      string   `json:"tier"`
	CreatedAt string   `json:"created_at"`
}

// register registers an agent and fails the test unless it gets a key.
func (g *gateway) register(agentID string, scopes ...string) registered {
	g.t.Helper()
	body, _ := json.Marshal(map[string]any{"agent_id": agentID, "scopes": scopes})
	resp, raw := g.post("/v1/auth/register", string(body), jsonType, freshIP())
	if resp.StatusCode != http.StatusCreated {
		g.t.Fatalf("registering %s: status %d: %s", agentID, resp.StatusCode, raw)
	}
	var out struct{ Data registered }
	if err := json.Unmarshal(raw, &out); err != nil {
		g.t.Fatal(err)
	}
	return out.Data
}

type storeCounts struct{ Users, Tokens int }

func (g *gateway) counts() storeCounts {
	g.t.Helper()
	var c storeCounts
	g.admin("GET", "/gatehouse/status", nil, &c)
	return c
}

func TestRegistration(t *testing.T) {
	g := newRegistrationGateway(t)

	resp, raw := g.post("/v1/auth/register", `{"agent_id":"Crawler-1","scopes":["wiki:read","papers:read","wiki:read"],"tier":"free"}`, jsonType, freshIP())
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("status %d: %s", resp.StatusCode, raw)
	}
	// Exactly the documented shape: data with five fields, and a message.
	var shape map[string]json.RawMessage
	json.Unmarshal(raw, &shape)
	var data map[string]json.RawMessage
	json.Unmarshal(shape["data"], &data)
	if len(shape) != 2 || shape["message"] == nil || len(data) != 5 {
		t.Errorf("response %s: want {data:{api_key,key_prefix,scopes,tier,created_at},message}", raw)
	}
	var out struct {
		Data    registered
		Message string
	}
	json.Unmarshal(raw, &out)
	key := out.Data
	if !strings.HasPrefix(key.APIKey, "qat_") || len(key.APIKey) != len("qat_")+36 {
		t.Errorf("api_key %q is not a qat_ token", key.APIKey)
	}
	if key.KeyPrefix != key.APIKey[:len("qat_")+4] {
		t.Errorf("key_prefix %q, want the prefix and the first four characters of %q", key.KeyPrefix, key.APIKey)
	}
	if strings.Join(key.Scopes, " ") != "wiki:read papers:read" || key.Tier != "free" || key.CreatedAt == "" {
		t.Errorf("data %+v", key)
	}
	if !strings.Contains(out.Message, "only once") {
		t.Errorf("message %q does not say the key is shown once", out.Message)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
	expectFields(t, resp, "registration", `"registration";q=3;w=3600`, 2, 1200)

	t.Run("the key works, as the agent, in its tier", func(t *testing.T) {
		bearer := "Authorization: Bearer " + key.APIKey
		resp, body := g.get("/api/papers/1", bearer)
		expectAllowed(t, resp, body, "free", `"free";q=3;w=60`, 1, 20)
		up := g.upstream.lastRequest().Header
		if up.Get("Gatehouse-User") != "crawler-1" || up.Get("Gatehouse-Tier") != "free" || up.Get("Gatehouse-Scopes") != "wiki:read papers:read" {
			t.Errorf("upstream saw %v", up)
		}
		var users []struct{ Login, Kind, Tier string }
		g.admin("GET", "/gatehouse/users", nil, &users)
		if len(users) != 1 || users[0].Kind != "agent" || users[0].Tier != "free" {
			t.Errorf("users %+v: want one agent of tier free", users)
		}
		var tokens []struct {
			Hint       string
			CreatedVia string `json:"created_via"`
			Created    time.Time
			Expires    time.Time
		}
		g.admin("GET", "/gatehouse/tokens", nil, &tokens)
		if len(tokens) != 1 || tokens[0].Hint != key.KeyPrefix+"****" || tokens[0].CreatedVia != "register" {
			t.Fatalf("tokens %+v: want one, created via register, whose hint is key_prefix****", tokens)
		}
		if life := tokens[0].Expires.Sub(tokens[0].Created).Round(time.Second); life != 90*24*time.Hour {
			t.Errorf("the key lives %v, want expires_days 90", life)
		}
	})
	t.Run("the key is never logged", func(t *testing.T) {
		g.assertNotLogged(key.APIKey)
	})
}

// TestRegistrationRefusals: every refusal is a clear 4xx that writes
// nothing to the store.
func TestRegistrationRefusals(t *testing.T) {
	g := newRegistrationGateway(t)
	g.addUser("alice")
	g.register("taken-agent", "wiki:read")

	for _, tc := range []struct {
		name        string
		method      string
		contentType string
		body        string
		status      int
		code        string
		mentions    []string
	}{
		{"scope not open", "POST", jsonType, `{"agent_id":"a1","scopes":["wiki:read","papers:write","graph:read"]}`, 400, "invalid_scope", []string{"papers:write", "graph:read"}},
		{"scope not in the catalog", "POST", jsonType, `{"agent_id":"a1","scopes":["nope:x"]}`, 400, "invalid_scope", []string{"nope:x"}},
		{"no scopes", "POST", jsonType, `{"agent_id":"a1","scopes":[]}`, 400, "invalid_scope", []string{"wiki:read papers:read"}},
		{"tier not open", "POST", jsonType, `{"agent_id":"a1","scopes":["wiki:read"],"tier":"pro"}`, 400, "invalid_tier", []string{`"pro"`, "free"}},
		{"unknown tier", "POST", jsonType, `{"agent_id":"a1","scopes":["wiki:read"],"tier":"platinum"}`, 400, "invalid_tier", []string{"platinum"}},
		{"taken agent_id", "POST", jsonType, `{"agent_id":"TAKEN-agent","scopes":["wiki:read"]}`, 409, "agent_id_taken", []string{"taken-agent"}},
		{"agent_id of a human user", "POST", jsonType, `{"agent_id":"alice","scopes":["wiki:read"]}`, 409, "agent_id_taken", []string{"alice"}},
		{"missing agent_id", "POST", jsonType, `{"scopes":["wiki:read"]}`, 400, "invalid_request", []string{"agent_id"}},
		{"bad agent_id", "POST", jsonType, `{"agent_id":"has space","scopes":["wiki:read"]}`, 400, "invalid_request", []string{"agent_id"}},
		{"malformed JSON", "POST", jsonType, `{"agent_id":"a1",`, 400, "invalid_request", []string{"malformed"}},
		{"unknown field", "POST", jsonType, `{"agent_id":"a1","scopes":["wiki:read"],"admin":true}`, 400, "invalid_request", []string{`"admin"`}},
		{"wrong type", "POST", jsonType, `{"agent_id":"a1","scopes":"wiki:read"}`, 400, "invalid_request", []string{"scopes"}},
		{"not an object", "POST", jsonType, `["a1"]`, 400, "invalid_request", []string{"object"}},
		{"trailing data", "POST", jsonType, `{"agent_id":"a1","scopes":["wiki:read"]} {}`, 400, "invalid_request", []string{"nothing after"}},
		{"empty body", "POST", jsonType, ``, 400, "invalid_request", []string{"empty"}},
		{"form body", "POST", "Content-Type: application/x-www-form-urlencoded", `agent_id=a1&scopes=wiki:read`, 415, "unsupported_media_type", []string{"application/json"}},
		{"wrong method", "GET", jsonType, ``, 405, "method_not_allowed", []string{"GET"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := g.counts()
			resp, body := g.do(tc.method, "/v1/auth/register", strings.NewReader(tc.body), tc.contentType, freshIP())
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			var e struct{ Error, Message string }
			if err := json.Unmarshal(body, &e); err != nil || e.Error != tc.code {
				t.Errorf("body %s: want error %q", body, tc.code)
			}
			for _, m := range tc.mentions {
				if !strings.Contains(e.Message, m) {
					t.Errorf("message %q does not mention %s", e.Message, m)
				}
			}
			if tc.status == 405 && resp.Header.Get("Allow") != "POST" {
				t.Errorf("Allow %q", resp.Header.Get("Allow"))
			}
			if after := g.counts(); after != before {
				t.Errorf("store went from %+v to %+v", before, after)
			}
		})
	}
}

// TestRegistrationLimit: registration has its own per-IP limit, charged
// for every attempt, and does not draw on (or depend on) the anonymous
// tier budget.
func TestRegistrationLimit(t *testing.T) {
	g := newRegistrationGateway(t)
	ip := freshIP()
	policy := `"registration";q=3;w=3600`
	attempts := []string{
		`{"agent_id":"r1","scopes":["wiki:read"]}`,
		`{"agent_id":"r1","scopes":["wiki:read"]}`, // taken: still an attempt
		`{"agent_id":"r2","scopes":["papers:write"]}`,
	}
	for i, body := range attempts {
		resp, raw := g.post("/v1/auth/register", body, jsonType, ip)
		if resp.StatusCode == http.StatusTooManyRequests {
			t.Fatalf("attempt %d refused: %s", i+1, raw)
		}
		_, r, _ := rateLimit(t, resp.Header.Get("RateLimit"))
		if r != 2-i || resp.Header.Get("RateLimit-Policy") != policy {
			t.Errorf("attempt %d: RateLimit %q, RateLimit-Policy %q", i+1, resp.Header.Get("RateLimit"), resp.Header.Get("RateLimit-Policy"))
		}
	}
	before := g.counts()
	resp, raw := g.post("/v1/auth/register", `{"agent_id":"r3","scopes":["wiki:read"]}`, jsonType, ip)
	expectLimited(t, resp, raw, "registration", policy, 1200)
	if after := g.counts(); after != before {
		t.Errorf("a refused registration wrote to the store: %+v -> %+v", before, after)
	}
	// Another client is not affected.
	if resp, raw := g.post("/v1/auth/register", `{"agent_id":"r3","scopes":["wiki:read"]}`, jsonType, freshIP()); resp.StatusCode != http.StatusCreated {
		t.Errorf("another IP: status %d: %s", resp.StatusCode, raw)
	}

	// A client whose anonymous budget is spent can still register, and
	// registering does not spend anonymous budget.
	other := freshIP()
	for range 3 {
		g.get("/api/wiki/x", other)
	}
	if resp, _ := g.get("/api/wiki/x", other); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("anonymous budget not spent: %d", resp.StatusCode)
	}
	if resp, raw := g.post("/v1/auth/register", `{"agent_id":"r4","scopes":["wiki:read"]}`, jsonType, other); resp.StatusCode != http.StatusCreated {
		t.Errorf("registration with the anonymous budget spent: %d: %s", resp.StatusCode, raw)
	}
	fresh := freshIP()
	g.post("/v1/auth/register", `{"agent_id":"r5","scopes":["wiki:read"]}`, jsonType, fresh)
	resp, raw = g.get("/api/wiki/x", fresh)
	expectAllowed(t, resp, raw, "anonymous", `"anonymous";q=3;w=60`, 2, 20)
}

// TestRegisteredKeyRevoke: the key revokes itself by key_prefix, even
// with its tier budget spent, and is refused from the next request on.
func TestRegisteredKeyRevoke(t *testing.T) {
	g := newRegistrationGateway(t)
	key := g.register("revoker", "wiki:read")
	bearer := "Authorization: Bearer " + key.APIKey
	ip := freshIP()

	// Spend the agent's tier budget: revocation must still work.
	for range 3 {
		g.get("/api/wiki/x", bearer, ip)
	}
	if resp, _ := g.get("/api/wiki/x", bearer, ip); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("budget not spent: %d", resp.StatusCode)
	}

	for _, tc := range []struct {
		name    string
		headers []string
		body    string
		status  int
		code    string
	}{
		{"no key", []string{jsonType}, `{"key_prefix":"` + key.KeyPrefix + `"}`, 401, "unauthorized"},
		{"unknown key", []string{jsonType, "Authorization: Bearer " + forgeValid("qat_")}, `{"key_prefix":"qat_Forg"}`, 401, "invalid_token"},
		{"missing key_prefix", []string{jsonType, bearer}, `{}`, 400, "invalid_request"},
		{"wrong key_prefix", []string{jsonType, bearer}, `{"key_prefix":"qat_0000"}`, 400, "invalid_request"},
		{"unknown field", []string{jsonType, bearer}, `{"key_prefix":"` + key.KeyPrefix + `","all":true}`, 400, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := g.post("/v1/auth/revoke", tc.body, append(tc.headers, freshIP())...)
			if resp.StatusCode != tc.status || !strings.Contains(string(body), `"error":"`+tc.code+`"`) {
				t.Fatalf("status %d, want %d %s: %s", resp.StatusCode, tc.status, tc.code, body)
			}
			// The key still verifies (its budget is spent, hence 429).
			if resp, _ := g.get("/api/wiki/x", bearer, ip); resp.StatusCode != http.StatusTooManyRequests {
				t.Errorf("after a refused revoke the key answers %d", resp.StatusCode)
			}
		})
	}

	resp, body := g.post("/v1/auth/revoke", `{"key_prefix":"`+key.KeyPrefix+`"}`, jsonType, bearer, ip)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: status %d: %s", resp.StatusCode, body)
	}
	var out struct {
		Data struct {
			KeyPrefix string `json:"key_prefix"`
			Revoked   bool
			RevokedAt string `json:"revoked_at"`
		}
		Message string
	}
	if err := json.Unmarshal(body, &out); err != nil || !out.Data.Revoked || out.Data.KeyPrefix != key.KeyPrefix || out.Data.RevokedAt == "" {
		t.Errorf("revoke answered %s", body)
	}
	resp, _ = g.get("/api/wiki/x", bearer, freshIP())
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "token revoked") {
		t.Errorf("revoked key: status %d, challenge %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	resp, _ = g.post("/v1/auth/revoke", `{"key_prefix":"`+key.KeyPrefix+`"}`, jsonType, bearer, freshIP())
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("revoking a revoked key: status %d, want 401", resp.StatusCode)
	}
	g.assertNotLogged(key.APIKey)
}

// TestRegistrationDisabled: without a registration block both endpoints
// answer 404 in JSON.
func TestRegistrationDisabled(t *testing.T) {
	g := newLimitedGateway(t, setup{})
	g.addUser("alice")
	alice := "Authorization: Bearer " + g.mint("alice", 30, "wiki:read")
	for _, tc := range []struct {
		path    string
		headers []string
	}{
		{"/v1/auth/register", []string{jsonType}},
		{"/v1/auth/revoke", []string{jsonType}},
		{"/v1/auth/revoke", []string{jsonType, alice}},
	} {
		before := g.counts()
		resp, body := g.post(tc.path, `{"agent_id":"a1","scopes":["wiki:read"]}`, tc.headers...)
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), `"error":"not_found"`) {
			t.Errorf("%s: status %d: %s", tc.path, resp.StatusCode, body)
		}
		if after := g.counts(); after != before {
			t.Errorf("%s wrote to the store", tc.path)
		}
	}
}

// TestRegisterRefusesReservedAndUnprintableAgentIDs: open registration
// refuses the reserved names in any spelling, and agent_ids that are not
// valid UTF-8 or hold control or formatting characters, with a 400 that
// says why, never echoing the raw text, and stores nothing.
func TestRegisterRefusesReservedAndUnprintableAgentIDs(t *testing.T) {
	g := newRegistrationGateway(t)
	for _, tc := range []struct {
		name    string
		agentID string // raw JSON string literal, quotes included
		reason  string // the message mentions it
	}{
		{"admin", `"admin"`, "reserved"},
		{"Root", `"Root"`, "reserved"},
		{"ADMINISTRATOR", `"ADMINISTRATOR"`, "reserved"},
		{"admin with a domain", `"admin@example.com"`, "reserved"},
		{"dotted root", `"ro.ot"`, "reserved"},
		{"gatehouse", `"Gatehouse"`, "reserved"},
		{"setup", `"setup"`, "reserved"},
		{"security", `"security"`, "reserved"},
		{"escaped NUL", `"crawler\u0000"`, "U+0000"},
		{"escaped trailing newline", `"crawler-1\n"`, "U+000A"},
		{"escaped tab", `"\tcrawler-1"`, "U+0009"},
		{"escaped bidi override", `"crawler\u202e1"`, "U+202E"},
		{"raw bidi override", "\"crawler\u202e1\"", "U+202E"},
		{"zero width space", `"crawler\u200b1"`, "U+200B"},
		{"C1 control", `"\u0085crawler"`, "U+0085"},
		{"invalid UTF-8", "\"crawler\xff1\"", "UTF-8"},
		{"truncated UTF-8", "\"crawler\xe2\x80\"", "UTF-8"},
		{"lone surrogate", `"crawler\ud800"`, "UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := g.counts()
			resp, body := g.post("/v1/auth/register", `{"agent_id":`+tc.agentID+`,"scopes":["wiki:read"]}`, jsonType, freshIP())
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", resp.StatusCode, body)
			}
			var e struct{ Error, Message string }
			if err := json.Unmarshal(body, &e); err != nil || e.Error != "invalid_request" {
				t.Errorf("body %s: want error invalid_request", body)
			}
			// A body that is not UTF-8 at all is refused whole, before its
			// fields are read.
			if !(strings.Contains(e.Message, "agent_id") || strings.Contains(e.Message, "JSON body")) || !strings.Contains(e.Message, tc.reason) {
				t.Errorf("message %q does not name agent_id (or the JSON body) and %s", e.Message, tc.reason)
			}
			if !utf8.Valid(body) || strings.ContainsFunc(e.Message, func(r rune) bool {
				return unicode.IsControl(r) || unicode.In(r, unicode.Cf) || r == utf8.RuneError
			}) {
				t.Errorf("the answer echoes the raw agent_id: %q", body)
			}
			if after := g.counts(); after != before {
				t.Errorf("store went from %+v to %+v", before, after)
			}
		})
	}
	var users []struct{ Login string }
	g.admin("GET", "/gatehouse/users", nil, &users)
	if len(users) != 0 {
		t.Errorf("refused registrations left users %+v", users)
	}
	// Near misses are ordinary names.
	for _, id := range []string{"admin-bot", "rooted", "crawler-1"} {
		g.register(id, "wiki:read")
	}
}
