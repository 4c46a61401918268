package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/gatehouse/gatehouse/api"
)

// caddyWithStdin runs the built binary against the running server with
// stdin as its standard input.
func (g *gateway) caddyWithStdin(stdin string, args ...string) (string, string, error) {
	g.t.Helper()
	cmd := exec.Command(caddyBin, append(args, "--address", fmt.Sprintf("localhost:%d", adminPort))...)
	cmd.Env = append(os.Environ(), "HOME="+g.t.TempDir(), "XDG_DATA_HOME="+g.t.TempDir())
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// TestSessionCommands drives `caddy gatehouse user passwd|totp` and
// `session list|revoke` against the running server.
func TestSessionCommands(t *testing.T) {
	g := newSessionGateway(t, "")
	g.addUser("alice")

	// passwd: never from argv; from stdin with --password-stdin.
	if _, stderr, err := g.caddyWithStdin("", "gatehouse", "user", "passwd", "alice"); err == nil || !strings.Contains(stderr, "--password-stdin") {
		t.Errorf("passwd without a terminal: %v %s", err, stderr)
	}
	if _, stderr, err := g.caddyWithStdin("short\n", "gatehouse", "user", "passwd", "alice", "--password-stdin"); err == nil || !strings.Contains(stderr, "at least 8") {
		t.Errorf("short password: %v %s", err, stderr)
	}
	if _, stderr, err := g.caddyWithStdin("alice password 1\n", "gatehouse", "user", "passwd", "alice", "--password-stdin"); err != nil {
		t.Fatalf("passwd: %v %s", err, stderr)
	}
	c := g.cookieClient()
	jwt := c.mustLogin("alice", "alice password 1")
	cli := g.cliLogin("alice", "alice password 1")

	stdout, stderr, err := g.caddy("gatehouse", "session", "list", "--user", "alice", "--json")
	if err != nil {
		t.Fatalf("session list: %v %s", err, stderr)
	}
	var sessions []api.SessionInfo
	if err := json.Unmarshal([]byte(stdout), &sessions); err != nil || len(sessions) != 2 {
		t.Fatalf("session list: %v %s", err, stdout)
	}
	browserID := ""
	for _, s := range sessions {
		if s.User != "alice" || s.Status != "active" {
			t.Errorf("session %+v", s)
		}
		if s.Kind == "browser" {
			browserID = s.ID
		}
	}
	if stdout, _, _ := g.caddy("gatehouse", "session", "list"); !strings.Contains(stdout, browserID) || !strings.Contains(stdout, "LAST SEEN") {
		t.Errorf("session table: %s", stdout)
	}

	// revoke <id>: that session only.
	if _, stderr, err := g.caddy("gatehouse", "session", "revoke", browserID); err != nil {
		t.Fatalf("session revoke: %v %s", err, stderr)
	}
	if resp, _ := c.do("GET", "/api/whoami", nil); resp.StatusCode != 401 {
		t.Errorf("revoked browser session: %d", resp.StatusCode)
	}
	if resp, _ := g.get("/api/whoami", "Authorization: Bearer "+cli.AccessToken); resp.StatusCode != 200 {
		t.Errorf("the CLI session was revoked too: %d", resp.StatusCode)
	}
	// revoke --user --all: everything.
	if _, stderr, err := g.caddy("gatehouse", "session", "revoke", "--user", "alice", "--all"); err != nil || !strings.Contains(stderr, "revoked 1 session") {
		t.Fatalf("revoke all: %v %s", err, stderr)
	}
	if resp, _ := g.get("/api/whoami", "Authorization: Bearer "+cli.AccessToken); resp.StatusCode != 401 {
		t.Errorf("CLI session after revoke --all: %d", resp.StatusCode)
	}
	if _, stderr, err := g.caddy("gatehouse", "session", "revoke", "--user", "alice"); err == nil {
		t.Errorf("revoke --user without --all was accepted: %s", stderr)
	}
	if _, _, err := g.caddy("gatehouse", "session", "revoke", "ses_nope"); err == nil {
		t.Error("revoking an unknown session succeeded")
	}

	// TOTP: enable prints the otpauth URL once; login then needs the code.
	stdout, stderr, err = g.caddy("gatehouse", "user", "totp", "enable", "alice")
	if err != nil {
		t.Fatalf("totp enable: %v %s", err, stderr)
	}
	u, err := url.Parse(strings.TrimSpace(stdout))
	secret := u.Query().Get("secret")
	if err != nil || u.Scheme != "otpauth" || secret == "" {
		t.Fatalf("otpauth URL %q", stdout)
	}
	if _, _, err := g.caddy("gatehouse", "user", "totp", "enable", "alice"); err == nil {
		t.Error("enabling TOTP twice replaced the secret")
	}
	if resp, _ := g.cookieClient().login("alice", "alice password 1"); resp.StatusCode != 403 {
		t.Errorf("login without the code: %d", resp.StatusCode)
	}
	if resp, _ := g.cookieClient().login("alice", "alice password 1", "totp", "000000"); resp.StatusCode != 403 {
		t.Errorf("login with a wrong code: %d", resp.StatusCode)
	}
	code, _ := totp.GenerateCode(secret, time.Now())
	if resp, body := g.cookieClient().login("alice", "alice password 1", "totp", code); resp.StatusCode != 303 {
		t.Fatalf("login with the code: %d %s", resp.StatusCode, body)
	}
	if resp, _ := g.cookieClient().login("alice", "alice password 1", "totp", code); resp.StatusCode != 403 {
		t.Errorf("the same code twice: %d", resp.StatusCode)
	}
	if _, stderr, err := g.caddy("gatehouse", "user", "totp", "disable", "alice"); err != nil {
		t.Fatalf("totp disable: %v %s", err, stderr)
	}
	if resp, _ := g.cookieClient().login("alice", "alice password 1"); resp.StatusCode != 303 {
		t.Errorf("login after disabling TOTP: %d", resp.StatusCode)
	}

	// A new password ends every session.
	c2 := g.cookieClient()
	c2.mustLogin("alice", "alice password 1")
	if _, stderr, err := g.caddyWithStdin("alice password 2\n", "gatehouse", "user", "passwd", "alice", "--password-stdin"); err != nil || !strings.Contains(stderr, "session(s) ended") {
		t.Fatalf("second passwd: %v %s", err, stderr)
	}
	if resp, _ := c2.do("GET", "/api/whoami", nil); resp.StatusCode != 401 {
		t.Errorf("session after a password change: %d", resp.StatusCode)
	}
	if resp, _ := g.cookieClient().login("alice", "alice password 1"); resp.StatusCode != 403 {
		t.Errorf("the old password still works: %d", resp.StatusCode)
	}
	g.assertNotLogged("alice password 1", "alice password 2", jwt, cli.AccessToken, cli.RefreshToken, secret)
}
