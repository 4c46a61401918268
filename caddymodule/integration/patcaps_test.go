package integration

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/api"
)

// TestPATResourceCaps creates capped tokens through the API and the page:
// caps never above the role the user holds, and effective on role routes.
func TestPATResourceCaps(t *testing.T) {
	g := newGateway(t, setup{
		global: defaultGlobal + "\nresource project read edit manage",
		site: "endpoints\nrule GET /api/projects/{project}/* role project read\n" +
			"rule POST /api/projects/{project}/* role project edit\n" + defaultSite,
	})
	g.dumpLogOnFailure()
	g.addUserWithPassword("alice", "alice password 1")
	if code := g.admin("PUT", "/gatehouse/members", map[string]string{"user": "alice", "type": "project", "name": "atlas", "role": "edit"}, nil); code != 200 {
		t.Fatalf("membership: %d", code)
	}
	c := g.cookieClient()
	jwt := c.mustLogin("alice", "alice password 1")

	for _, bad := range []struct {
		caps map[string]string
		want string
	}{
		{map[string]string{"project:atlas": "manage"}, "above your role"},
		{map[string]string{"project:zoo": "read"}, "no role"},
		{map[string]string{"nope:x": "read"}, "nope"},
		{map[string]string{"project:atlas": "owner"}, "owner"},
	} {
		resp, body := c.do("POST", "/api/pat", map[string]any{"name": "x", "scopes": []string{"papers:read"}, "expires_days": 7, "resources": bad.caps})
		if resp.StatusCode != 400 || !strings.Contains(body, bad.want) {
			t.Errorf("caps %v: %d %s", bad.caps, resp.StatusCode, body)
		}
	}
	if n := g.tokenCount("alice"); n != 0 {
		t.Fatalf("refused requests created %d tokens", n)
	}

	resp, body := c.do("POST", "/api/pat", map[string]any{"name": "reader", "scopes": []string{"papers:read"}, "expires_days": 7, "resources": map[string]string{"project:atlas": "read"}})
	if resp.StatusCode != 201 || !strings.Contains(body, `"resources":{"project:atlas":"read"}`) || !strings.Contains(body, `"all_resources":false`) {
		t.Fatalf("capped create: %d %s", resp.StatusCode, body)
	}
	reader := decodeInto[api.CreateTokenResponse](t, body).Token
	if resp, _ := g.get("/api/projects/atlas/x", "Authorization: Bearer "+reader); resp.StatusCode != 200 {
		t.Errorf("read within the cap: %d", resp.StatusCode)
	}
	if resp, _ := g.do("POST", "/api/projects/atlas/x", nil, "Authorization: Bearer "+reader); resp.StatusCode != 403 {
		t.Errorf("edit above the cap: %d", resp.StatusCode)
	}

	// The page offers the resources the user holds a role on.
	_, page := c.do("GET", "/pat", nil)
	if !strings.Contains(page, `id="resources-some"`) || !strings.Contains(page, `name="cap:project:atlas"`) ||
		strings.Contains(page, `<option value="manage"`) {
		t.Fatalf("resource choices on the page are wrong")
	}
	form := url.Values{"action": {"create"}, "name": {"page capped"}, "expires_days": {"7"}, "scope": {"papers:read"}, "resources": {"some"}}
	if resp, body := c.do("POST", "/pat", form); resp.StatusCode != 400 || !strings.Contains(body, "Choose at least one resource") {
		t.Errorf("some resources, none chosen: %d", resp.StatusCode)
	}
	form.Set("cap:project:atlas", "edit")
	resp, body = c.do("POST", "/pat", form)
	tok := regexp.MustCompile(`qat_[0-9A-Za-z]{36}`).FindString(body)
	if resp.StatusCode != 201 || tok == "" {
		t.Fatalf("page create with a cap: %d", resp.StatusCode)
	}
	if resp, _ := g.do("POST", "/api/projects/atlas/x", nil, "Authorization: Bearer "+tok); resp.StatusCode != 200 {
		t.Errorf("edit within the page-made cap: %d", resp.StatusCode)
	}
	if !strings.Contains(body, "project:atlas: edit") {
		t.Error("the list does not show the token's cap")
	}
	form.Set("cap:project:atlas", "manage")
	if resp, body := c.do("POST", "/pat", form); resp.StatusCode != 400 || !strings.Contains(body, "above your role") {
		t.Errorf("a forged cap above the role: %d", resp.StatusCode)
	}
	g.assertNotLogged("alice password 1", jwt, reader, tok)
}
