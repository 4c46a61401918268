package main

import (
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/client"
	"github.com/gatehouse/gatehouse/client/gatehousetest"
)

// TestPasswordLogin: --password-stdin with --user starts a session; a
// TOTP account without --totp says to re-run with it; a wrong password
// stores nothing; the password is never printed; without a terminal and
// without --password-stdin the CLI says to pipe it.
func TestPasswordLogin(t *testing.T) {
	t.Parallel()
	srv := gatehousetest.NewServer(t)
	srv.AddUser("alice", "alice password", "")
	srv.AddUser("tina", "tina password", "246810")
	e := newEnv(t)

	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"wrong password", "nope\n", []string{"-u", "alice", "--password-stdin"}, 1, "login to 127.0.0.1:"},
		{"no login", "alice password\n", []string{"--password-stdin"}, 2, "--user LOGIN"},
		{"no terminal", "", []string{"-u", "alice", "--password"}, 2, "--password-stdin"},
		{"totp needed", "tina password\n", []string{"-u", "tina", "--password-stdin"}, 1, "run the login again with --totp CODE"},
		{"with a device flag", "alice password\n", []string{"-u", "alice", "--password-stdin", "--scopes", "a"}, 2, "is for the device login"},
	} {
		r := e.run(tc.stdin, append([]string{"auth", "login", "-s", srv.URL}, tc.args...)...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s: exit %d, want %d with %q\n%s", tc.name, r.code, tc.code, tc.want, r.stderr)
		}
		assertNoSecret(t, "alice password", r)
	}
	if f := e.load(); len(f.Hosts) != 0 {
		t.Fatalf("refused logins stored %v", f.Hosts)
	}

	r := e.mustRun("alice password\n", "auth", "login", "-s", srv.URL, "-u", "alice", "--password-stdin")
	assertContains(t, "login", r.stdout, "✓ Logged in to", "as alice", "session: ses_", "stored:  hosts.yml")
	r = e.mustRun("tina password\n", "auth", "login", "-s", srv.URL, "-u", "tina", "--password-stdin", "--totp", "246810")
	assertContains(t, "totp login", r.stdout, "as tina", "other accounts on", "alice")
	h := e.load().Host(hostKey(t, srv))
	if h.User != "tina" || !h.IsSession() || h.RefreshToken == "" || h.Account("alice") == nil || !h.Account("alice").IsSession() {
		t.Fatalf("stored %+v", h)
	}
	if srv.Logins() != 2 {
		t.Errorf("%d logins reached the server", srv.Logins())
	}
}

// TestSessionRefreshAndAccounts: api refreshes an expired session
// transparently; auth token prints the token and only it; switch,
// logout -u and status work per account; an invalidated account says so
// without a request.
func TestSessionRefreshAndAccounts(t *testing.T) {
	t.Parallel()
	srv := gatehousetest.NewServer(t)
	srv.SetNow(time.Now())
	srv.AddUser("alice", "alice password", "")
	srv.AddUser("bob", "bob password", "")
	e := newEnv(t)
	e.mustRun("alice password\n", "auth", "login", "-s", srv.URL, "-u", "alice", "--password-stdin")
	e.mustRun("bob password\n", "auth", "login", "-s", srv.URL, "-u", "bob", "--password-stdin")
	key := hostKey(t, srv)

	if r := e.mustRun("", "api", "/v1/x"); echoed(t, r.stdout)["user"] != "bob" {
		t.Errorf("api as %s, want the active bob", r.stdout)
	}
	srv.Advance(gatehousetest.DefaultAccessTTL + time.Minute)
	if r := e.mustRun("", "api", "-u", "alice", "/v1/x"); echoed(t, r.stdout)["user"] != "alice" {
		t.Errorf("api -u alice as %s", r.stdout)
	}
	if srv.Rotations() != 1 {
		t.Errorf("%d rotations after one expired call", srv.Rotations())
	}
	tok := e.mustRun("", "auth", "token", "-u", "alice")
	if got := strings.TrimSpace(tok.stdout); got != e.load().Host(key).Account("alice").Token || tok.stderr != "" {
		t.Errorf("auth token printed %q (stderr %q)", tok.stdout, tok.stderr)
	}

	r := e.mustRun("", "auth", "switch")
	assertContains(t, "switch", r.stdout, "to alice")
	if e.load().Host(key).User != "alice" {
		t.Error("switch did not change the active account")
	}
	if r := e.run("", "auth", "switch", "-u", "carol"); r.code != 2 || !strings.Contains(r.stderr, "no such account") {
		t.Errorf("switch to an unknown account: %d %s", r.code, r.stderr)
	}

	// status: both, the active one marked.
	r = e.mustRun("", "auth", "status")
	assertContains(t, "status", r.stdout, "alice (active)", "bob", "logged in (", "[hosts.yml]")

	// The server revokes bob's session: api as bob says so, and the
	// account is invalidated from then on.
	for _, s := range srv.Sessions("bob") {
		srv.RevokeSession(s.ID)
	}
	if r := e.run("", "api", "-u", "bob", "/v1/x"); r.code != 1 || !strings.Contains(r.stderr, "revoked") {
		t.Errorf("api with a revoked session: %d %s", r.code, r.stderr)
	}
	n := len(srv.Requests())
	r = e.run("", "auth", "status")
	if r.code != 1 || !strings.Contains(r.stdout, "invalidated; run: gatehouse auth login") {
		t.Errorf("status after revoke:\n%s", r.stdout)
	}
	if got := len(srv.Requests()) - n; got != 1 {
		t.Errorf("status made %d requests, want 1 (alice's; bob's state is known)", got)
	}

	r = e.mustRun("", "auth", "logout", "-u", "bob")
	assertContains(t, "logout bob", r.stdout, "Logged out of", "as bob")
	h := e.load().Host(key)
	if h.User != "alice" || h.Account("bob") != nil {
		t.Errorf("after logout -u bob: %+v", h)
	}
	r = e.mustRun("", "auth", "logout")
	assertContains(t, "logout alice", r.stdout, "Ended session", "as alice")
	if e.load().Host(key) != nil {
		t.Error("the last logout left the host")
	}
	for _, s := range srv.Sessions("alice") {
		if !s.Revoked {
			t.Error("logout left alice's session live on the server")
		}
	}
}

// TestConcurrentCommandsRefreshOnce: ten commands at once with an
// expired access token make one refresh between them.
func TestConcurrentCommandsRefreshOnce(t *testing.T) {
	t.Parallel()
	srv := gatehousetest.NewServer(t)
	srv.SetNow(time.Now())
	srv.AddUser("alice", "alice password", "")
	e := newEnv(t)
	e.mustRun("alice password\n", "auth", "login", "-s", srv.URL, "-u", "alice", "--password-stdin")
	srv.Advance(gatehousetest.DefaultAccessTTL + time.Minute)
	var wg sync.WaitGroup
	codes := make([]int, 10)
	for i := range codes {
		wg.Go(func() { codes[i] = e.run("", "api", "/v1/x").code })
	}
	wg.Wait()
	for i, c := range codes {
		if c != 0 {
			t.Errorf("command %d: exit %d", i, c)
		}
	}
	if srv.RefreshCalls() != 1 {
		t.Errorf("%d refreshes, want 1", srv.RefreshCalls())
	}
}

// TestLoginWithRefreshTokenAndDeviceSession: a refresh token piped in is
// exchanged once and stored as a session; a device login with --session
// stores a session; a server too old for it gives a PAT, with a warning.
func TestLoginWithRefreshTokenAndDeviceSession(t *testing.T) {
	t.Parallel()
	srv := gatehousetest.NewServer(t)
	first := srv.StartSession("alice")
	e := newEnv(t)
	r := e.mustRun(first.RefreshToken+"\n", "auth", "login", "-s", srv.URL, "--with-refresh-token")
	assertContains(t, "import", r.stdout, "as alice", "session: "+first.SessionID)
	assertNoSecret(t, first.RefreshToken, r)
	h := e.load().Host(hostKey(t, srv))
	if !h.IsSession() || h.RefreshToken == first.RefreshToken || srv.Rotations() != 1 {
		t.Errorf("stored %+v after %d rotations", h, srv.Rotations())
	}
	if r := e.run("not a token\n", "auth", "login", "-s", srv.URL, "--with-refresh-token"); r.code != 1 {
		t.Errorf("a bad refresh token: %d %s", r.code, r.stderr)
	}

	srv.SetDecide(gatehousetest.ApproveAt(1, gatehousetest.Decision{User: "dora"}))
	srv.SetInterval(0)
	d := newEnv(t)
	r = d.mustRun("", "auth", "login", "-s", srv.URL, "--no-browser", "--session")
	assertContains(t, "device session", r.stdout, "as dora", "session: ses_")
	if !d.load().Host(hostKey(t, srv)).IsSession() {
		t.Error("--session stored a PAT")
	}
	old := gatehousetest.NewServer(t)
	old.DisableDeviceSessions()
	old.SetDecide(gatehousetest.ApproveAt(1, gatehousetest.Decision{User: "dora"}))
	old.SetInterval(0)
	r = d.mustRun("", "auth", "login", "-s", old.URL, "--no-browser", "--session")
	assertContains(t, "old server", r.stderr, "too old for --session")
}

// TestKeychainStorage: with a keychain, login puts the secrets there and
// hosts.yml holds none; --insecure-storage keeps them in the file; status
// says where each lives; logout removes the item.
func TestKeychainStorage(t *testing.T) {
	t.Parallel()
	srv := gatehousetest.NewServer(t)
	srv.AddUser("alice", "alice password", "")
	srv.AddUser("bob", "bob password", "")
	e := newEnv(t)
	kr := &fakeKeyring{items: map[string]string{}}
	e.keyring = kr
	r := e.mustRun("alice password\n", "auth", "login", "-s", srv.URL, "-u", "alice", "--password-stdin")
	assertContains(t, "login", r.stdout, "stored:  system keychain")
	e.mustRun("bob password\n", "auth", "login", "-s", srv.URL, "-u", "bob", "--password-stdin", "--insecure-storage")
	raw, err := os.ReadFile(e.hostsPath())
	if err != nil {
		t.Fatal(err)
	}
	if len(kr.items) != 1 || strings.Count(string(raw), "refresh_token:") != 1 {
		t.Errorf("%d keychain items; hosts.yml:\n%s", len(kr.items), raw)
	}
	e.mustRun("", "api", "-u", "alice", "/v1/x")
	r = e.mustRun("", "auth", "status")
	assertContains(t, "status", r.stdout, "[system keychain]", "[hosts.yml]")
	e.mustRun("", "auth", "logout", "-u", "alice")
	if len(kr.items) != 0 {
		t.Errorf("logout left %d keychain items", len(kr.items))
	}
}

// TestConfigSetServerBack: `config set server -` goes back to the
// previous default.
func TestConfigSetServerBack(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if r := e.run("", "config", "set", "server", "-"); r.code != 2 || !strings.Contains(r.stderr, "no previous default") {
		t.Errorf("without a previous one: %d %s", r.code, r.stderr)
	}
	e.mustRun("", "config", "set", "server", "a.example")
	e.mustRun("", "config", "set", "server", "b.example")
	e.mustRun("", "config", "set", "server", "-")
	if got := strings.TrimSpace(e.mustRun("", "config", "get", "server").stdout); got != "a.example" {
		t.Errorf("after -: %q", got)
	}
	e.mustRun("", "config", "set", "server", "-")
	if got := strings.TrimSpace(e.mustRun("", "config", "get", "server").stdout); got != "b.example" {
		t.Errorf("after - twice: %q", got)
	}
}

// fakeKeyring is a keychain in memory.
type fakeKeyring struct {
	mu    sync.Mutex
	items map[string]string
}

func (k *fakeKeyring) Get(service, user string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.items[service+"|"+user]
	if !ok {
		return "", client.ErrKeyringNotFound
	}
	return v, nil
}

func (k *fakeKeyring) Set(service, user, secret string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.items[service+"|"+user] = secret
	return nil
}

func (k *fakeKeyring) Delete(service, user string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.items[service+"|"+user]; !ok {
		return errors.New("not found")
	}
	delete(k.items, service+"|"+user)
	return nil
}

// TestPasswordLoginPrompts: on a terminal, the login is asked for (with
// echo), the password without echo (it never reaches the output), and the
// one-time code once the server wants it; --with-token refuses to read a
// terminal.
func TestPasswordLoginPrompts(t *testing.T) {
	t.Parallel()
	srv := gatehousetest.NewServer(t)
	srv.AddUser("tina", "tina password", "246810")
	e := newEnv(t)
	e.tty, e.secrets = true, []string{"tina password"}
	r := e.mustRun("tina\n246810\n", "auth", "login", "-s", srv.URL, "--password")
	assertContains(t, "prompts", r.stderr, "Login: ", "Password of tina on 127.0.0.1:", "One-time code: ")
	assertContains(t, "login", r.stdout, "as tina")
	assertNoSecret(t, "tina password", r)
	if r := e.run("", "auth", "login", "-s", srv.URL, "--with-token"); r.code != 2 || !strings.Contains(r.stderr, "pipe it in") {
		t.Errorf("--with-token on a terminal: %d %s", r.code, r.stderr)
	}
}
