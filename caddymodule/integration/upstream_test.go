package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// registryGlobal is the knowledge registry's catalog: bare scope names.
const registryGlobal = `token_prefix kp_
scopes read write admin task_history`

// TestRegistryRules drives the new requirement forms through a real
// Caddy: bare scope names, `self {agent} or scope admin`, and an any
// block; a 403 names what would have passed.
func TestRegistryRules(t *testing.T) {
	g := newGateway(t, setup{global: registryGlobal, site: `rule GET /v1/knowledge/* scope read
rule GET /v1/export/{agent} self {agent} or scope admin
rule DELETE /v1/knowledge/* any {
	scope admin
	scope write
}
default deny`})
	g.addUser("alice")
	g.addUser("bob")
	alice := g.mint("alice", 7, "read", "write")
	bobRead := g.mint("bob", 7, "read")
	bobAdmin := g.mint("bob", 7, "admin")
	for _, tc := range []struct {
		method, path, tok string
		status            int
		message           string
	}{
		{"GET", "/v1/knowledge/k1", alice, 200, ""},
		{"GET", "/v1/export/alice", alice, 200, ""},
		{"GET", "/v1/export/bob", alice, 403, "this route accepts self {agent} (only your own {agent} (alice); the path names bob) or scope admin (this token lacks admin)"},
		{"GET", "/v1/export/alice", bobAdmin, 200, ""},
		{"DELETE", "/v1/knowledge/k1", alice, 200, ""},
		{"DELETE", "/v1/knowledge/k1", bobAdmin, 200, ""},
		{"DELETE", "/v1/knowledge/k1", bobRead, 403, "this route accepts scope admin (this token lacks admin) or scope write (this token lacks write)"},
		{"DELETE", "/v1/knowledge/k1", "", 401, ""},
	} {
		var headers []string
		if tc.tok != "" {
			headers = append(headers, "Authorization: Bearer "+tc.tok)
		}
		resp, body := g.do(tc.method, tc.path, nil, headers...)
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, resp.StatusCode, body, tc.status)
			continue
		}
		if tc.message != "" && !strings.Contains(string(body), tc.message) {
			t.Errorf("%s %s: body %s does not say %q", tc.method, tc.path, body, tc.message)
		}
	}
	if resp, _ := g.do("DELETE", "/v1/knowledge/k1", nil, "Authorization: Bearer "+bobRead); resp.Header.Get("Gatehouse-Accepted-Scopes") != "admin write" {
		t.Errorf("accepted scopes %q", resp.Header.Get("Gatehouse-Accepted-Scopes"))
	}
}

// TestHeaderSelection: a site that sends three headers, one renamed,
// gives the upstream exactly those, and a client's forged copy of the
// renamed header, in any CGI spelling, never arrives.
func TestHeaderSelection(t *testing.T) {
	g := newGateway(t, setup{site: `headers user_id login scopes
header login X-Remote-User
rule GET /api/papers/* scope papers:read
default deny`})
	g.addUser("alice")
	tok := g.mint("alice", 7, "papers:read")
	resp, _ := g.get("/api/papers/1", "Authorization: Bearer "+tok, "X-Remote-User: root", "X_Remote_User: root", "Connection: X-Remote-User")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	up := g.upstream.lastRequest()
	if got := up.Header.Values("X-Remote-User"); len(got) != 1 || got[0] != "alice" {
		t.Errorf("X-Remote-User = %q", got)
	}
	if up.Header.Get("X_remote_user") != "" {
		t.Error("a folded spelling of X-Remote-User reached the upstream")
	}
	if !strings.HasPrefix(up.Header.Get("Gatehouse-User-Id"), "usr_") || up.Header.Get("Gatehouse-Scopes") != "papers:read" {
		t.Errorf("chosen headers: %v", up.Header)
	}
	for _, h := range []string{"Gatehouse-User", "Gatehouse-Tier", "Gatehouse-Credential", "Gatehouse-Token-Id"} {
		if up.Header.Get(h) != "" {
			t.Errorf("%s sent although not chosen", h)
		}
	}
}

// assertionVerifier is an upstream's check of Gatehouse-Assertion,
// independent of Gatehouse's code: go-jose reads the JWKS, golang-jwt
// checks signature, algorithm, issuer, audience and expiry.
type assertionVerifier struct {
	jwksURL, issuer, audience string
	now                       func() time.Time
	keys                      jose.JSONWebKeySet
}

func (v *assertionVerifier) fetch(t *testing.T) {
	t.Helper()
	resp, err := http.Get(v.jwksURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/jwk-set+json" {
		t.Fatalf("JWKS: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	v.keys = jose.JSONWebKeySet{}
	if err := json.NewDecoder(resp.Body).Decode(&v.keys); err != nil {
		t.Fatal(err)
	}
}

func (v *assertionVerifier) verify(tok string) (jwt.MapClaims, error) {
	claims := jwt.MapClaims{}
	opts := []jwt.ParserOption{jwt.WithValidMethods([]string{"EdDSA", "ES256"}), jwt.WithIssuer(v.issuer),
		jwt.WithAudience(v.audience), jwt.WithExpirationRequired()}
	if v.now != nil {
		opts = append(opts, jwt.WithTimeFunc(v.now))
	}
	_, err := jwt.ParseWithClaims(tok, claims, func(tk *jwt.Token) (any, error) {
		kid, _ := tk.Header["kid"].(string)
		ks := v.keys.Key(kid)
		if len(ks) != 1 {
			return nil, fmt.Errorf("unknown kid %q", kid)
		}
		return ks[0].Key, nil
	}, opts...)
	return claims, err
}

func kidOf(t *testing.T, tok string) string {
	t.Helper()
	p, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	return p.Header["kid"].(string)
}

// TestAssertionThroughCaddy: the upstream gets a Gatehouse-Assertion it
// verifies from the gateway's JWKS; a client's forged one never arrives;
// after `caddy gatehouse store rotate-key --assertion` new assertions
// carry the new kid and old ones still verify; `caddy gatehouse keys`
// lists both; an assertion is refused once expired.
func TestAssertionThroughCaddy(t *testing.T) {
	g := newGateway(t, setup{site: `endpoints
assertion {
	audience https://api.test
	issuer https://gw.test
	ttl 30s
}
rule GET /api/papers/* scope papers:read
default deny`})
	g.addUser("alice", "tier", "free")
	tok, tokID := g.mintWithID("alice", 7, "papers:read")
	get := func() string {
		t.Helper()
		resp, body := g.get("/api/papers/1", "Authorization: Bearer "+tok, "Gatehouse-Assertion: forged")
		if resp.StatusCode != 200 {
			t.Fatalf("status %d %s", resp.StatusCode, body)
		}
		a := g.upstream.lastRequest().Header.Values("Gatehouse-Assertion")
		if len(a) != 1 || a[0] == "forged" {
			t.Fatalf("assertion headers %q", a)
		}
		return a[0]
	}
	first := get()
	v := &assertionVerifier{jwksURL: g.base + "/.well-known/gatehouse/jwks.json", issuer: "https://gw.test", audience: "https://api.test"}
	v.fetch(t)
	claims, err := v.verify(first)
	if err != nil {
		t.Fatal(err)
	}
	if claims["login"] != "alice" || claims["token_id"] != tokID || claims["credential"] != "pat" || claims["tier"] != "free" ||
		!strings.HasPrefix(claims["sub"].(string), "usr_") || fmt.Sprint(claims["scopes"]) != "[papers:read]" || claims["jti"] == "" {
		t.Errorf("claims %v", claims)
	}
	if exp, iat := claims["exp"].(float64), claims["iat"].(float64); exp-iat != 30 {
		t.Errorf("lifetime %vs", exp-iat)
	}
	if again := get(); again != first {
		t.Error("the assertion was signed again within its cached life")
	}

	if _, stderr, err := g.caddy("gatehouse", "store", "rotate-key", "--assertion", "--overlap", "1h"); err != nil {
		t.Fatalf("rotate-key --assertion: %v %s", err, stderr)
	}
	fresh := get()
	if kidOf(t, fresh) == kidOf(t, first) {
		t.Fatal("still signed with the rotated-out key")
	}
	if _, err := v.verify(fresh); err == nil {
		t.Error("a kid the verifier never fetched verified")
	}
	v.fetch(t) // a verifier refetches on an unknown kid
	if _, err := v.verify(fresh); err != nil {
		t.Errorf("new key: %v", err)
	}
	if _, err := v.verify(first); err != nil {
		t.Errorf("old key within the overlap: %v", err)
	}
	out, stderr, err := g.caddy("gatehouse", "keys")
	if err != nil || !strings.Contains(out, kidOf(t, first)) || !strings.Contains(out, kidOf(t, fresh)) || !strings.Contains(out, "retired, published until") {
		t.Errorf("keys: %v %s\n%s", err, stderr, out)
	}

	late := *v
	late.now = func() time.Time { return time.Now().Add(31 * time.Second) }
	if _, err := late.verify(fresh); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("after its lifetime: %v", err)
	}
	wrong := *v
	wrong.audience = "https://other.test"
	if _, err := wrong.verify(fresh); err == nil {
		t.Error("verified for another audience")
	}
	// The assertion itself shows in reverse_proxy's DEBUG lines, as the
	// other identity headers do (README); the caller's PAT never.
	g.assertNotLogged(tok)
}
