package integration

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/api"
)

// TestDecisions walks every outcome of the core gateway against the
// issue's example rules: what status, challenge and body a client gets,
// and whether the upstream was reached.
func TestDecisions(t *testing.T) {
	g := newGateway(t, setup{})
	g.addUser("alice")
	g.addUser("bob")
	reader := g.mint("alice", 30, "papers:read", "wiki:read")
	writer := g.mint("alice", 30, "papers:read", "papers:write")
	revoked, revokedID := g.mintWithID("alice", 30, "papers:read")
	if code := g.admin("DELETE", "/gatehouse/tokens/"+revokedID, nil, nil); code != 200 {
		t.Fatalf("revoking: HTTP %d", code)
	}

	badChecksum := reader[:len(reader)-1] + flipLast(reader)
	otherPrefix := "gth_" + reader[len("qat_"):]
	bearer := func(tok string) string { return "Authorization: Bearer " + tok }

	cases := []struct {
		name      string
		method    string
		path      string
		headers   []string
		status    int
		challenge string // substring of WWW-Authenticate; "-" means absent
		errCode   string // JSON "error"
		upstream  bool
	}{
		{"anonymous route, no token", "GET", "/api/wiki/page", nil, 200, "-", "", true},
		{"anonymous route, valid token", "GET", "/api/wiki/page", []string{bearer(reader)}, 200, "-", "", true},
		{"anonymous route, revoked token still refused", "GET", "/api/wiki/page", []string{bearer(revoked)}, 401, `error="invalid_token"`, "invalid_token", false},
		{"scope route, no token", "GET", "/api/papers/1", nil, 401, `Bearer realm="gatehouse"`, "unauthorized", false},
		{"scope route, right scope", "GET", "/api/papers/1", []string{bearer(reader)}, 200, "-", "", true},
		{"HEAD follows GET", "HEAD", "/api/papers/1", []string{bearer(reader)}, 200, "-", "", true},
		{"write route, read-only token", "POST", "/api/papers/1", []string{bearer(reader)}, 403, `error="insufficient_scope", error_description="insufficient scope: this token lacks papers:write", scope="papers:write"`, "insufficient_scope", false},
		{"write route, write token", "DELETE", "/api/papers/1", []string{bearer(writer)}, 200, "-", "", true},
		{"deny rule with a valid token", "GET", "/admin/panel", []string{bearer(writer)}, 403, "-", "forbidden", false},
		{"deny rule without a token", "GET", "/ADMIN/panel", nil, 403, "-", "forbidden", false},
		{"dot segments refused", "GET", "/api/wiki/../../admin/x", nil, 400, "-", "invalid_request", false},
		{"dot segments cannot reach an allowed route from a denied one", "GET", "/admin/../api/wiki/x", nil, 400, "-", "invalid_request", false},
		{"encoded slash refused", "GET", "/admin%2F..%2Fapi/wiki/x", nil, 400, "-", "invalid_request", false},
		{"double-encoded dot refused", "GET", "/api/wiki/%252e%252e/admin", nil, 400, "-", "invalid_request", false},
		{"path parameters cannot climb out (Tomcat's ..;)", "GET", "/api/wiki/..;/admin/x", nil, 400, "-", "invalid_request", false},
		{"path parameters cannot dodge a deny rule", "GET", "/admin;x/secret", nil, 400, "-", "invalid_request", false},
		{"encoded path parameters refused", "GET", "/api/wiki/%2e%2e%3b/admin", nil, 400, "-", "invalid_request", false},
		{"default authenticated, no token", "GET", "/other", nil, 401, `Bearer realm="gatehouse"`, "unauthorized", false},
		{"default authenticated, token", "GET", "/other", []string{bearer(reader)}, 200, "-", "", true},
		{"revoked token", "GET", "/api/papers/1", []string{bearer(revoked)}, 401, `error_description="token revoked"`, "invalid_token", false},
		{"unknown token with a valid checksum", "GET", "/api/papers/1", []string{bearer(forgeValid("qat_"))}, 401, `error_description="unknown token"`, "invalid_token", false},
		{"wrong checksum", "GET", "/api/papers/1", []string{bearer(badChecksum)}, 401, `error_description="malformed token"`, "invalid_token", false},
		{"token of another prefix", "GET", "/api/papers/1", []string{bearer(otherPrefix)}, 401, `error="invalid_token"`, "invalid_token", false},
		{"garbage token", "GET", "/api/papers/1", []string{bearer("hello")}, 401, `error="invalid_token"`, "invalid_token", false},
		{"two Authorization headers", "GET", "/api/wiki/x", []string{bearer(reader), bearer(reader)}, 400, `error="invalid_request"`, "invalid_request", false},
		{"empty Bearer", "GET", "/api/wiki/x", []string{"Authorization: Bearer "}, 400, `error="invalid_request"`, "invalid_request", false},
		{"Basic scheme", "GET", "/api/papers/1", []string{"Authorization: Basic YWxpY2U6c2VjcmV0"}, 400, `error="invalid_request"`, "invalid_request", false},
		{"non-ASCII token", "GET", "/api/papers/1", []string{"Authorization: Bearer qat_ünïcode"}, 400, `error="invalid_request"`, "invalid_request", false},
		{"oversized header", "GET", "/api/papers/1", []string{bearer("qat_" + strings.Repeat("a", 5000))}, 400, `error="invalid_request"`, "invalid_request", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := g.upstream.hitCount()
			resp, body := g.do(tc.method, tc.path, nil, tc.headers...)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tc.status, body)
			}
			wa := resp.Header.Get("WWW-Authenticate")
			if tc.challenge == "-" && wa != "" {
				t.Errorf("unexpected challenge %q", wa)
			}
			if tc.challenge != "-" && !strings.Contains(wa, tc.challenge) {
				t.Errorf("challenge %q does not contain %q", wa, tc.challenge)
			}
			if tc.errCode != "" && tc.method != "HEAD" {
				var e api.Error
				if err := json.Unmarshal(body, &e); err != nil || e.Error != tc.errCode || e.Message == "" {
					t.Errorf("body %s: want error %q with a message", body, tc.errCode)
				}
			}
			if reached := g.upstream.hitCount() > before; reached != tc.upstream {
				t.Errorf("upstream reached = %v, want %v", reached, tc.upstream)
			}
		})
	}

	t.Run("403 names what the route accepts", func(t *testing.T) {
		resp, body := g.do("POST", "/api/papers/1", nil, bearer(reader))
		if got := resp.Header.Get("Gatehouse-Accepted-Scopes"); got != "papers:write" {
			t.Errorf("Gatehouse-Accepted-Scopes = %q", got)
		}
		want := `{"error":"insufficient_scope","message":"insufficient scope: this token lacks papers:write"}`
		if strings.TrimSpace(string(body)) != want {
			t.Errorf("body %s, want %s", body, want)
		}
	})

	t.Run("denials are logged with reason and token id, never the token", func(t *testing.T) {
		g.do("POST", "/api/papers/1", nil, bearer(reader))
		g.get("/api/papers/1", bearer(revoked))
		g.assertNotLogged(reader, writer, revoked, badChecksum)
		var scopeLine, revokedLine bool
		for _, line := range g.logLines() {
			var e map[string]any
			if json.Unmarshal([]byte(line), &e) != nil || e["msg"] != "request denied" {
				continue
			}
			switch e["reason"] {
			case "insufficient_scope":
				scopeLine = e["user"] == "alice" && strings.HasPrefix(e["token_id"].(string), "tok_") && e["rule"] != nil
			case "token_revoked":
				revokedLine = e["credential"] == revokedID
			}
		}
		if !scopeLine || !revokedLine {
			t.Errorf("denial lines missing or incomplete (scope %v, revoked %v)", scopeLine, revokedLine)
		}
	})

	t.Run("a disabled user's tokens stop working", func(t *testing.T) {
		g.addUser("carol")
		tok := g.mint("carol", 30, "papers:read")
		if resp, _ := g.get("/api/papers/1", bearer(tok)); resp.StatusCode != 200 {
			t.Fatalf("before disable: %d", resp.StatusCode)
		}
		g.admin("POST", "/gatehouse/users/carol/disable", struct{}{}, nil)
		resp, _ := g.get("/api/papers/1", bearer(tok))
		if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "user disabled") {
			t.Errorf("after disable: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	})
}

// TestUpstreamSeesCleanIdentity checks the headers the backend receives:
// the identity on success, never the caller's secret, and never a header
// the client forged.
func TestUpstreamSeesCleanIdentity(t *testing.T) {
	g := newGateway(t, setup{})
	g.addUser("alice", "tier", "free")
	tok := g.mint("alice", 7, "papers:read", "wiki:read")
	forged := []string{"Gatehouse-User: mallory", "gatehouse-user-id: usr_forged", "X-Gatehouse-Scopes: papers:write", "Gatehouse-Credential: pat"}

	resp, _ := g.get("/api/papers/1", append([]string{"Authorization: Bearer " + tok}, forged...)...)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	up := g.upstream.lastRequest()
	if got := up.Header.Get("Gatehouse-User"); got != "alice" {
		t.Errorf("Gatehouse-User = %q", got)
	}
	if got := up.Header.Get("Gatehouse-User-Id"); !strings.HasPrefix(got, "usr_") {
		t.Errorf("Gatehouse-User-Id = %q", got)
	}
	for h, want := range map[string]string{"Gatehouse-Tier": "free", "Gatehouse-Scopes": "wiki:read papers:read", "Gatehouse-Credential": "pat"} {
		if got := up.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if got := up.Header.Get("Gatehouse-Token-Id"); !strings.HasPrefix(got, "tok_") {
		t.Errorf("Gatehouse-Token-Id = %q", got)
	}
	if up.Header.Get("Authorization") != "" {
		t.Error("the PAT was forwarded upstream")
	}
	if up.Header.Get("X-Gatehouse-Scopes") != "" {
		t.Error("a forged X-Gatehouse-* header reached the upstream")
	}
	if exp := resp.Header.Get("Gatehouse-Token-Expiration"); !strings.HasSuffix(exp, " UTC") || len(exp) != len("2026-09-01 00:00:00 UTC") {
		t.Errorf("Gatehouse-Token-Expiration = %q", exp)
	}

	// Anonymous: forged identity headers are dropped, nothing else set.
	resp, _ = g.get("/api/wiki/x", forged...)
	if resp.StatusCode != 200 {
		t.Fatalf("anonymous status %d", resp.StatusCode)
	}
	up = g.upstream.lastRequest()
	if up.Header.Get("Gatehouse-User") != "" || up.Header.Get("Gatehouse-User-Id") != "" {
		t.Errorf("forged identity reached the upstream: %v", up.Header)
	}
	if got := up.Header.Get("Gatehouse-Credential"); got != "anonymous" {
		t.Errorf("anonymous Gatehouse-Credential = %q", got)
	}
	g.assertNotLogged(tok)
}

func flipLast(tok string) string {
	if tok[len(tok)-1] == 'a' {
		return "b"
	}
	return "a"
}
