package integration

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/api"
)

// TestCrossOriginRequestsAreRefused plays a forged cross-site request for
// every state-changing thing a session cookie can do, and checks it gets
// 403 and changes nothing; the same requests from the same origin work.
func TestCrossOriginRequestsAreRefused(t *testing.T) {
	g := newSessionGateway(t, "")
	g.addUserWithPassword("alice", "alice password 1")
	c := g.cookieClient()
	jwt := c.mustLogin("alice", "alice password 1")
	_, patID := g.mintWithID("alice", 7, "papers:read")
	tokensBefore := g.tokenCount("alice")

	crossSite := []string{"Origin: https://evil.example", "Sec-Fetch-Site: cross-site"}
	crossOriginOnly := []string{"Origin: http://evil.example"} // an older browser: no Sec-Fetch-Site
	sameOrigin := []string{"Origin: " + g.base, "Sec-Fetch-Site: same-origin"}

	forged := []struct {
		name   string
		method string
		path   string
		body   any
	}{
		{"create a PAT through the API", "POST", "/api/pat", map[string]any{"name": "evil", "scopes": []string{"papers:read"}, "expires_days": 7}},
		{"create a PAT through the page", "POST", "/pat", url.Values{"action": {"create"}, "name": {"evil"}, "expires_days": {"7"}, "scope": {"papers:read"}}},
		{"revoke a PAT through the page", "POST", "/pat", url.Values{"action": {"revoke"}, "token_id": {patID}}},
		{"revoke a PAT through the API", "DELETE", "/api/pat/" + patID, nil},
		{"revoke a PAT through revoke", "POST", "/api/auth/revoke", url.Values{"token_id": {patID}}},
		{"log out", "POST", "/logout", url.Values{}},
		{"write through the proxy", "POST", "/api/papers/1", url.Values{"x": {"y"}}},
	}
	for _, headers := range [][]string{crossSite, crossOriginOnly} {
		for _, f := range forged {
			t.Run(f.name+" "+headers[0], func(t *testing.T) {
				hits := g.upstream.hitCount()
				resp, body := c.do(f.method, f.path, f.body, headers...)
				if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "cross-origin request refused") {
					t.Fatalf("forged request: %d %s", resp.StatusCode, body)
				}
				if g.upstream.hitCount() != hits {
					t.Error("the forged request reached the upstream")
				}
			})
		}
	}
	if n := g.tokenCount("alice"); n != tokensBefore {
		t.Errorf("forged requests changed the tokens: %d -> %d", tokensBefore, n)
	}
	var tokens []api.TokenInfo
	g.admin("GET", "/gatehouse/tokens?user=alice", nil, &tokens)
	if tokens[0].Status != "active" {
		t.Error("a forged request revoked a token")
	}
	if resp, _ := c.do("GET", "/api/whoami", nil); resp.StatusCode != 200 {
		t.Fatal("a forged logout ended the session")
	}

	// A forged login (into the attacker's account) needs no cookie and is
	// refused all the same.
	fresh := g.cookieClient()
	resp, _ := fresh.do("POST", "/login", url.Values{"login": {"alice"}, "password": {"alice password 1"}}, crossSite...)
	if resp.StatusCode != http.StatusForbidden || sessionCookie(resp) != nil {
		t.Errorf("cross-site login: %d", resp.StatusCode)
	}

	// Safe methods and same-origin writes are fine; a Bearer-only request
	// cannot be forged by a browser and is not checked.
	if resp, _ := c.do("GET", "/api/papers/1", nil, crossSite...); resp.StatusCode != 200 {
		t.Errorf("cross-site GET (a link): %d", resp.StatusCode)
	}
	if resp, body := c.do("POST", "/api/pat", map[string]any{"name": "ok", "scopes": []string{"papers:read"}, "expires_days": 7}, sameOrigin...); resp.StatusCode != 201 {
		t.Errorf("same-origin create: %d %s", resp.StatusCode, body)
	}
	if resp, _ := g.do("POST", "/api/papers/1", nil, append([]string{"Authorization: Bearer " + jwt}, crossSite...)...); resp.StatusCode != 200 {
		t.Errorf("Bearer POST with cross-site headers: %d", resp.StatusCode)
	}
	g.assertNotLogged("alice password 1", jwt)
}

func (g *gateway) tokenCount(login string) int {
	g.t.Helper()
	var tokens []api.TokenInfo
	g.admin("GET", "/gatehouse/tokens?user="+login, nil, &tokens)
	return len(tokens)
}
