package integration

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReloadKeepsServingAndTokens runs the binary as an operator would,
// then reloads a changed Caddyfile twice in a row: no reload waits on the
// store's file lock, every token keeps working, the new rules apply.
func TestReloadKeepsServingAndTokens(t *testing.T) {
	up := newUpstream(t)
	store := filepath.Join(t.TempDir(), "reload.db")
	conf := func(rule string) string {
		return fmt.Sprintf(`{
	admin localhost:%d
	gatehouse {
		store %s
		scopes docs:read docs:write
	}
}
:%d {
	gatehouse {
		%s
		default authenticated
	}
	reverse_proxy %s
}
`, binAdminPort, store, binHTTPPort, rule, strings.TrimPrefix(up.URL, "http://"))
	}
	srv := startBinary(t, conf("rule GET /docs/* scope docs:read"))
	if _, stderr, err := srv.gatehouse("user", "add", "rita"); err != nil {
		t.Fatalf("user add: %v %s", err, stderr)
	}
	stdout, stderr, err := srv.gatehouse("token", "create", "--user", "rita", "--scopes", "docs:read", "--expires-days", "1")
	if err != nil {
		t.Fatalf("token create: %v %s", err, stderr)
	}
	tok := strings.TrimSpace(stdout)
	get := func(path string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d%s", binHTTPPort, path), nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get("/docs/a"); code != 200 {
		t.Fatalf("before reload: %d", code)
	}
	for i, rule := range []string{"rule GET /docs/* scope docs:write", "rule GET /docs/* scope docs:read"} {
		// A reload that waited on the lock would fail with ErrLocked
		// after its timeout: success is the check, however slow.
		if out, err := srv.reload(conf(rule)); err != nil {
			t.Fatalf("reload %d: %v\n%s\n%s", i+1, err, out, srv.output)
		}
		want := 403
		if strings.HasSuffix(rule, "docs:read") {
			want = 200
		}
		if code := get("/docs/a"); code != want {
			t.Errorf("after reload %d: %d, want %d", i+1, code, want)
		}
	}
	// A reload that fails to provision leaves the running config, and its
	// store, in place.
	if out, err := srv.reload(conf("rule GET /docs/* scope nope:read")); err == nil {
		t.Fatalf("a bad config reloaded:\n%s", out)
	}
	if code := get("/docs/a"); code != 200 {
		t.Errorf("after a failed reload: %d", code)
	}
	if _, stderr, err := srv.gatehouse("token", "list"); err != nil {
		t.Errorf("store unusable after a failed reload: %v %s", err, stderr)
	}
}

// TestFailedProvisionDoesNotCloseStore pins the Cleanup-after-failed-
// Provision pitfall in process: a config whose handler fails to provision
// (after the app took the store) must not release the running
// generation's reference.
func TestFailedProvisionDoesNotCloseStore(t *testing.T) {
	g := newGateway(t, setup{})
	g.addUser("sam")
	tok := g.mint("sam", 1, "papers:read")
	bad := g.caddyfile(setup{global: defaultGlobal, site: "rule GET /x scope not:declared", store: g.store})
	resp, err := http.Post(fmt.Sprintf("http://localhost:%d/load", adminPort), "text/caddyfile", strings.NewReader(bad))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == 200 {
		t.Fatal("bad config loaded")
	}
	if resp, _ := g.get("/api/papers/1", "Authorization: Bearer "+tok); resp.StatusCode != 200 {
		t.Fatalf("after the failed load: %d", resp.StatusCode)
	}
	if code := g.admin("POST", "/gatehouse/users", map[string]any{"login": "tess"}, nil); code != 201 {
		t.Fatalf("store closed by the failed load: HTTP %d", code)
	}
}

// TestValidateBesideRunningServer: `caddy validate` of the running
// server's own Caddyfile succeeds while that server holds the store's
// lock (validation provisions without opening the store), still rejects a
// bad config, and leaves the server serving and reloadable.
func TestValidateBesideRunningServer(t *testing.T) {
	store := filepath.Join(t.TempDir(), "validate.db")
	conf := func(scope string) string {
		return fmt.Sprintf(`{
	admin localhost:%d
	gatehouse {
		store %s
		scopes docs:read
	}
}
:%d {
	gatehouse {
		rule GET /docs/* scope %s
	}
	respond "ok"
}
`, binAdminPort, store, binHTTPPort, scope)
	}
	srv := startBinary(t, conf("docs:read"))
	if _, stderr, err := srv.gatehouse("user", "add", "vera"); err != nil {
		t.Fatalf("user add: %v %s", err, stderr)
	}
	stdout, stderr, err := runCaddy(t, "validate", "--config", srv.file)
	if err != nil {
		t.Fatalf("caddy validate beside the running server: %v\n%s%s", err, stdout, stderr)
	}
	if !strings.Contains(stdout+stderr, "Valid configuration") {
		t.Errorf("validate did not say the config is valid:\n%s%s", stdout, stderr)
	}

	bad := filepath.Join(t.TempDir(), "Caddyfile")
	if err := os.WriteFile(bad, []byte(conf("nope:read")), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := runCaddy(t, "validate", "--config", bad); err == nil || !strings.Contains(stderr, "nope:read") {
		t.Errorf("validate of an undeclared scope: %v\n%s", err, stderr)
	}

	// The server's store survived both: the user is there, and a reload
	// still takes it over.
	if out, err := srv.reload(conf("docs:read")); err != nil {
		t.Fatalf("reload after validate: %v\n%s\n%s", err, out, srv.output)
	}
	stdout, stderr, err = srv.gatehouse("user", "list")
	if err != nil || !strings.Contains(stdout, "vera") {
		t.Errorf("user list after validate and reload: %v\n%s%s", err, stdout, stderr)
	}
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/docs/a", binHTTPPort))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /docs/a without a token after validate: %d, want 401", resp.StatusCode)
	}
}
