package integration

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/api"
)

// TestPATAPI creates, lists and revokes PATs through /api/pat with a
// browser session, and checks that nothing else may call it.
func TestPATAPI(t *testing.T) {
	g := newSessionGateway(t, "pat_max_days 30")
	if code := g.admin("POST", "/gatehouse/users", map[string]any{"login": "alice", "scopes": []string{"papers:read", "papers:write", "wiki:read"}}, nil); code != 201 {
		t.Fatalf("creating alice: %d", code)
	}
	g.setPassword("alice", "alice password 1")
	g.addUser("bob")
	_, bobsID := g.mintWithID("bob", 7, "papers:read")
	c := g.cookieClient()
	jwt := c.mustLogin("alice", "alice password 1")

	resp, body := c.do("POST", "/api/pat", map[string]any{"name": "laptop", "scopes": []string{"papers:read"}, "expires_days": 7})
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	created := decodeInto[api.CreateTokenResponse](t, body)
	if !strings.HasPrefix(created.Token, "qat_") || created.Info.CreatedVia != "web" || created.Info.Name != "laptop" || created.Info.Expires == nil {
		t.Fatalf("created: %s", body)
	}
	if resp, _ := g.get("/api/papers/1", "Authorization: Bearer "+created.Token); resp.StatusCode != 200 {
		t.Fatalf("the new PAT: %d", resp.StatusCode)
	}

	// Bad requests: 4xx, and no token is created.
	for _, bad := range []struct {
		name   string
		body   any
		status int
	}{
		{"scope the user lacks", map[string]any{"name": "x", "scopes": []string{"graph:read"}, "expires_days": 7}, 400},
		{"unknown scope", map[string]any{"name": "x", "scopes": []string{"nope:nope"}, "expires_days": 7}, 400},
		{"no scopes", map[string]any{"name": "x", "scopes": []string{}, "expires_days": 7}, 400},
		{"too long", map[string]any{"name": "x", "scopes": []string{"papers:read"}, "expires_days": 31}, 400},
		{"no expiry", map[string]any{"name": "x", "scopes": []string{"papers:read"}}, 400},
		{"no name", map[string]any{"scopes": []string{"papers:read"}, "expires_days": 7}, 400},
		{"unknown field", map[string]any{"name": "x", "scopes": []string{"papers:read"}, "expires_days": 7, "admin": true}, 400},
		{"wrong type", map[string]any{"name": "x", "scopes": "papers:read", "expires_days": 7}, 400},
	} {
		resp, body := c.do("POST", "/api/pat", bad.body)
		if resp.StatusCode != bad.status || !strings.Contains(body, `"message"`) {
			t.Errorf("%s: %d %s", bad.name, resp.StatusCode, body)
		}
	}
	if resp, body := c.do("POST", "/api/pat", nil, "Content-Type: application/json"); resp.StatusCode != 400 {
		t.Errorf("empty body: %d %s", resp.StatusCode, body)
	}

	resp, body = c.do("GET", "/api/pat", nil)
	list := decodeInto[[]api.TokenInfo](t, body)
	if resp.StatusCode != 200 || len(list) != 1 || list[0].ID != created.Info.ID || list[0].Status != "active" {
		t.Fatalf("list: %d %s", resp.StatusCode, body)
	}
	if strings.Contains(body, created.Token) || list[0].Hint != created.Token[:8]+"****" {
		t.Errorf("the listing shows more than a hint: %s", body)
	}
	if list[0].LastUsed == nil {
		t.Error("the listing does not show the token's last use")
	}

	// Another user's token is "not found"; a malformed id too.
	for _, id := range []string{bobsID, "tok_nope", "a/b"} {
		if resp, _ := c.do("DELETE", "/api/pat/"+id, nil); resp.StatusCode != 404 {
			t.Errorf("DELETE %s: %d", id, resp.StatusCode)
		}
	}
	resp, body = c.do("DELETE", "/api/pat/"+created.Info.ID, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `"status":"revoked"`) {
		t.Fatalf("revoke: %d %s", resp.StatusCode, body)
	}
	if resp, _ := g.get("/api/papers/1", "Authorization: Bearer "+created.Token); resp.StatusCode != 401 {
		t.Errorf("revoked PAT: %d", resp.StatusCode)
	}
	var bobs []api.TokenInfo
	g.admin("GET", "/gatehouse/tokens?user=bob", nil, &bobs)
	if len(bobs) != 1 || bobs[0].Status != "active" {
		t.Errorf("bob's token was touched: %+v", bobs)
	}

	// Only a browser session may manage PATs.
	pat := g.mint("alice", 7, "papers:read")
	exact := `{"error":"forbidden","message":"this endpoint requires a browser session token"}`
	for _, req := range []struct{ method, path string }{{"GET", "/api/pat"}, {"POST", "/api/pat"}, {"DELETE", "/api/pat/" + created.Info.ID}, {"GET", "/pat"}} {
		resp, raw := g.do(req.method, req.path, strings.NewReader(`{"name":"x","scopes":["papers:read"],"expires_days":1}`),
			"Authorization: Bearer "+pat, "Content-Type: application/json")
		if resp.StatusCode != http.StatusForbidden || strings.TrimSpace(string(raw)) != exact {
			t.Errorf("PAT on %s %s: %d %s", req.method, req.path, resp.StatusCode, raw)
		}
	}
	if resp, _ := g.get("/api/pat"); resp.StatusCode != 401 {
		t.Errorf("no credential on /api/pat: %d", resp.StatusCode)
	}
	var all []api.TokenInfo
	g.admin("GET", "/gatehouse/tokens?user=alice", nil, &all)
	if len(all) != 2 {
		t.Errorf("alice has %d tokens, want 2 (no refused request created one)", len(all))
	}
	// The browser JWT as a Bearer token is a browser session.
	if resp, _ := g.get("/api/pat", "Authorization: Bearer "+jwt); resp.StatusCode != 200 {
		t.Errorf("browser JWT as Bearer on /api/pat: %d", resp.StatusCode)
	}
	g.assertNotLogged("alice password 1", jwt, created.Token, pat)
}
