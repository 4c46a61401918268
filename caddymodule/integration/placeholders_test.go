package integration

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestPlaceholders: the identity is also available to the rest of the
// Caddy route as placeholders, here copied into a header by reverse_proxy.
func TestPlaceholders(t *testing.T) {
	port := placeholdersPort
	g := newGateway(t, setup{extra: fmt.Sprintf(`
http://127.0.0.1:%d {
	gatehouse {
		rule GET /api/* scope papers:read
	}
	reverse_proxy {upstream} {
		header_up X-Identity "{http.auth.user.id}|{gatehouse.user}|{gatehouse.tier}|{gatehouse.scopes}|{gatehouse.credential}|{gatehouse.token_id}"
	}
}
`, port)})
	g.addUser("pia", "tier", "free")
	tok, id := g.mintWithID("pia", 1, "papers:read")
	req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/api/x", port), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	got := strings.Split(g.upstream.lastRequest().Header.Get("X-Identity"), "|")
	if len(got) != 6 || !strings.HasPrefix(got[0], "usr_") || got[1] != "pia" || got[2] != "free" ||
		got[3] != "papers:read" || got[4] != "pat" || got[5] != id {
		t.Errorf("placeholders: %q", got)
	}
}
