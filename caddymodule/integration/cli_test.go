package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/api"
)

// TestCLIAgainstRunningServer drives `caddy gatehouse` through the running
// server's admin API: the store file is locked, so nothing else could work.
func TestCLIAgainstRunningServer(t *testing.T) {
	g := newGateway(t, setup{})
	run := func(args ...string) (string, string) {
		t.Helper()
		stdout, stderr, err := g.caddy(append([]string{"gatehouse"}, args...)...)
		if err != nil {
			t.Fatalf("caddy gatehouse %v: %v\n%s", args, err, stderr)
		}
		return stdout, stderr
	}

	if _, stderr := run("user", "add", "dave", "--tier", "free"); !strings.Contains(stderr, "created user dave") {
		t.Errorf("user add: %q", stderr)
	}
	stdout, stderr := run("token", "create", "--user", "dave", "--scopes", "papers:read,wiki:read", "--expires-days", "30", "--name", "laptop")
	tok := strings.TrimSpace(stdout)
	if !strings.HasPrefix(tok, "qat_") || strings.Contains(tok, "\n") || strings.Contains(stderr, tok) {
		t.Fatalf("token create must print the token alone on stdout: stdout %q stderr %q", stdout, stderr)
	}
	if resp, _ := g.get("/api/papers/1", "Authorization: Bearer "+tok); resp.StatusCode != 200 {
		t.Fatalf("new token refused: %d", resp.StatusCode)
	}

	stdout, _ = run("token", "list", "--user", "dave", "--json")
	var list []map[string]any
	if err := json.Unmarshal([]byte(stdout), &list); err != nil || len(list) != 1 {
		t.Fatalf("token list --json: %v %q", err, stdout)
	}
	for _, field := range []string{"id", "name", "hint", "scopes", "created", "expires", "last_used"} {
		if _, ok := list[0][field]; !ok {
			t.Errorf("token list --json lacks %q: %v", field, list[0])
		}
	}
	if strings.Contains(stdout, tok) || strings.Contains(stdout, tok[8:]) {
		t.Fatal("token list shows the secret")
	}
	id := list[0]["id"].(string)
	if list[0]["last_used"] == nil || list[0]["last_used_ip"] != "127.0.0.1" {
		t.Errorf("last use not recorded: %v", list[0])
	}

	stdout, _ = run("token", "list")
	if !strings.Contains(stdout, id) || !strings.Contains(stdout, "laptop") || !strings.Contains(stdout, "active") {
		t.Errorf("token list table: %s", stdout)
	}

	run("token", "revoke", id)
	if resp, _ := g.get("/api/papers/1", "Authorization: Bearer "+tok); resp.StatusCode != 401 {
		t.Fatalf("revoked token still accepted on the next request: %d", resp.StatusCode)
	}

	stdout, _ = run("user", "list")
	if !strings.Contains(stdout, "dave") {
		t.Errorf("user list: %s", stdout)
	}
	run("user", "disable", "dave")
	stdout, _ = run("user", "list", "--json")
	if !strings.Contains(stdout, `"disabled": true`) {
		t.Errorf("user list after disable: %s", stdout)
	}
	g.assertNotLogged(tok)
}

// TestCLIBadInput: every refusal is a clear error, a non-zero exit and no
// change to the store.
func TestCLIBadInput(t *testing.T) {
	g := newGateway(t, setup{})
	g.addUser("erin")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"token", "create", "--user", "erin", "--scopes", "papers:read", "--expires-days", "0"}, "expiry 0 days: must be 1 to 365"},
		{[]string{"token", "create", "--user", "erin", "--scopes", "papers:read", "--expires-days", "366"}, "must be 1 to 365"},
		{[]string{"token", "create", "--user", "erin", "--scopes", "papers:read", "--no-expiry"}, "tokens must expire here"},
		{[]string{"token", "create", "--user", "nobody", "--scopes", "papers:read", "--expires-days", "5"}, "not found"},
		{[]string{"token", "create", "--user", "erin", "--scopes", "papers:delete", "--expires-days", "5"}, "unknown scope papers:delete"},
		{[]string{"token", "create", "--user", "erin", "--expires-days", "5"}, "at least one scope"},
		{[]string{"token", "create", "--scopes", "papers:read", "--expires-days", "5"}, "--user is required"},
		{[]string{"token", "create", "--user", "erin", "--scopes", "papers:read", "--expires-days", "5", "--resources", "project:x=read"}, "unknown resource type"},
		{[]string{"token", "revoke", "tok_doesnotexist"}, "not found"},
		{[]string{"user", "add", "erin"}, "already exists"},
		{[]string{"user", "add", "bad login"}, "only letters"},
		{[]string{"user", "add", "frank", "--tier", "gold"}, "unknown tier"},
		{[]string{"user", "add", "frank", "--scopes", "nope:nope"}, "unknown scope"},
		{[]string{"user", "disable", "ghost"}, "not found"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, stderr, err := g.caddy(append([]string{"gatehouse"}, tc.args...)...)
			if err == nil {
				t.Fatal("succeeded")
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr does not say %q:\n%s", tc.want, stderr)
			}
		})
	}
	var tokens []any
	g.admin("GET", "/gatehouse/tokens", nil, &tokens)
	var users []api.UserInfo
	g.admin("GET", "/gatehouse/users", nil, &users)
	if len(tokens) != 0 || len(users) != 1 {
		t.Errorf("bad input changed the store: %d tokens, users %v", len(tokens), users)
	}
}

// TestCLIOffline: with no server running, commands open the store named
// by the Caddyfile (or --store) directly, with the Caddyfile's policy.
func TestCLIOffline(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "offline.db")
	caddyfile := filepath.Join(dir, "Caddyfile")
	os.WriteFile(caddyfile, []byte(fmt.Sprintf(`{
	admin localhost:%d
	gatehouse {
		store %s
		token_prefix off_
		scopes docs:read
		pat_max_days 10
	}
}
`, unusedPort, store)), 0o600)
	run := func(args ...string) (string, string, error) {
		return runCaddy(t, append(append([]string{"gatehouse"}, args...), "--config", caddyfile)...)
	}
	if _, stderr, err := run("user", "add", "olga"); err != nil {
		t.Fatalf("offline user add: %v %s", err, stderr)
	}
	stdout, stderr, err := run("token", "create", "--user", "olga", "--scopes", "docs:read", "--expires-days", "10")
	if err != nil || !strings.HasPrefix(stdout, "off_") {
		t.Fatalf("offline token create: %v %q %s", err, stdout, stderr)
	}
	if _, stderr, _ := run("token", "create", "--user", "olga", "--scopes", "docs:read", "--expires-days", "11"); !strings.Contains(stderr, "must be 1 to 10") {
		t.Errorf("offline policy not applied: %s", stderr)
	}
	stdout, _, _ = run("status")
	if !strings.Contains(stdout, store) || !strings.Contains(stdout, "opened directly") {
		t.Errorf("status: %s", stdout)
	}
	// --store alone works too, with default policy.
	stdout, _, err = runCaddy(t, "gatehouse", "user", "list", "--store", store, "--address", fmt.Sprintf("localhost:%d", unusedPort))
	if err != nil || !strings.Contains(stdout, "olga") {
		t.Errorf("--store: %v %s", err, stdout)
	}

	backup := filepath.Join(dir, "backup.db")
	if _, stderr, err := run("store", "backup", backup); err != nil {
		t.Fatalf("backup: %v %s", err, stderr)
	}
	if st, err := os.Stat(backup); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("backup file: %v %v", st, err)
	}
	if _, stderr, err := runCaddy(t, "gatehouse", "store", "check", "--store", backup, "--address", fmt.Sprintf("localhost:%d", unusedPort)); err != nil {
		t.Errorf("check of the backup: %v %s", err, stderr)
	}
}

// TestLockedStore: a second process that opens a store in use fails within
// seconds with a message naming the file.
func TestLockedStore(t *testing.T) {
	g := newGateway(t, setup{})
	start := time.Now()
	_, stderr, err := runCaddy(t, "gatehouse", "user", "list", "--store", g.store, "--address", fmt.Sprintf("localhost:%d", unusedPort))
	if err == nil {
		t.Fatal("opened a locked store")
	}
	if !strings.Contains(stderr, g.store) || !strings.Contains(stderr, "locked") {
		t.Errorf("message should name the file and say it is locked: %s", stderr)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v", d)
	}

	// A second Caddy on the same store fails to start, quickly, saying why.
	second := filepath.Join(t.TempDir(), "Caddyfile")
	os.WriteFile(second, []byte(fmt.Sprintf("{\n\tadmin localhost:%d\n\tgatehouse {\n\t\tstore %s\n\t}\n}\n:%d {\n\tgatehouse\n\trespond ok\n}\n", binAdminPort, g.store, binHTTPPort)), 0o600)
	start = time.Now()
	_, stderr, err = runCaddy(t, "run", "--config", second)
	if err == nil || !strings.Contains(stderr, g.store) || !strings.Contains(stderr, "locked") {
		t.Errorf("second caddy on a locked store: %v\n%s", err, stderr)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("second caddy took %v to fail", d)
	}
}
