package integration

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/api"
)

// jwtKid is the kid in a JWT's header.
func jwtKid(t *testing.T, tok string) string {
	t.Helper()
	head, _, _ := strings.Cut(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		t.Fatalf("JWT header: %v", err)
	}
	var h struct {
		Kid string `json:"kid"`
	}
	json.Unmarshal(raw, &h)
	return h.Kid
}

// TestSessionSigningKeyRotation: `caddy gatehouse store rotate-key` makes
// new sessions sign with a new key and retires the old one at once (a
// leaked key must sign nothing), and the rotation is audited.
func TestSessionSigningKeyRotation(t *testing.T) {
	g := newSessionGateway(t, "")
	g.addUserWithPassword("alice", "alice password 1")
	before := g.cookieClient().mustLogin("alice", "alice password 1")

	_, stderr, err := g.caddy("gatehouse", "store", "rotate-key")
	m := regexp.MustCompile(`new session signing key (key_\S+);`).FindStringSubmatch(stderr)
	if err != nil || m == nil {
		t.Fatalf("rotate-key: %v %s", err, stderr)
	}
	after := g.cookieClient().mustLogin("alice", "alice password 1")
	if old, kid := jwtKid(t, before), jwtKid(t, after); kid != m[1] || old == kid || old == "" {
		t.Fatalf("kid before %q, after %q, rotated to %q", old, kid, m[1])
	}
	if resp, body := g.get("/api/whoami", "Authorization: Bearer "+after); resp.StatusCode != http.StatusOK {
		t.Errorf("session signed with the new key: %d %s", resp.StatusCode, body)
	}
	if resp, _ := g.get("/api/whoami", "Authorization: Bearer "+before); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("session signed with the retired key: %d", resp.StatusCode)
	}

	// Through the admin API too; each rotation is in the audit trail.
	var res api.RotateKeyResponse
	if code := g.admin("POST", "/gatehouse/store/rotate-key", nil, &res); code != http.StatusOK || res.KeyID == m[1] || !strings.HasPrefix(res.KeyID, "key_") {
		t.Fatalf("admin rotate: %d %+v", code, res)
	}
	var events []api.AuditEvent
	g.admin("GET", "/gatehouse/audit", nil, &events)
	var rotated []string
	for _, e := range events {
		if e.Action == "signing_key.rotated" {
			rotated = append(rotated, e.Detail)
		}
	}
	if len(rotated) != 2 || rotated[0] != res.KeyID || rotated[1] != m[1] {
		t.Errorf("audited rotations %v", rotated)
	}
	if resp, _ := g.get("/api/whoami", "Authorization: Bearer "+after); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a session signed before the second rotation: %d", resp.StatusCode)
	}
	g.assertNotLogged(before, after)
}
