package main

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/client"
	"github.com/gatehouse/gatehouse/client/gatehousetest"
)

func TestLoginDevice(t *testing.T) {
	t.Parallel()
	srv := gatehousetest.NewServer(t)
	srv.SetDecide(gatehousetest.ApproveAt(1, gatehousetest.Decision{User: "alice"}))
	e := newEnv(t)
	r := e.mustRun("", "auth", "login", "-s", srv.URL, "--no-browser",
		"--scopes", "wiki:read, papers:read,", "--token-name", "laptop", "--expires-days", "30")

	grants := srv.Grants()
	if len(grants) != 1 {
		t.Fatalf("%d grants", len(grants))
	}
	g := grants[0]
	if g.ClientID != "gatehouse-cli" || !slices.Equal(g.Scopes, []string{"wiki:read", "papers:read"}) ||
		g.TokenName != "laptop" || g.ExpiresDays != 30 {
		t.Fatalf("grant asked for %+v", g)
	}
	assertContains(t, "stderr", r.stderr, g.UserCode, srv.URL+"/device?user_code="+g.UserCode)
	name := client.DisplayHost(hostKey(t, srv))
	assertContains(t, "stdout", r.stdout, "✓ Logged in to "+name+" as alice", "gth_", "****", `"laptop"`,
		"wiki:read papers:read", "(in 30 days)")

	h := e.load().Host(hostKey(t, srv))
	if h == nil || h.User != "alice" || h.TokenName != "laptop" || h.TokenHint == "" || h.AddedAt.IsZero() ||
		time.Until(h.ExpiresAt) < 29*24*time.Hour {
		t.Fatalf("stored %+v", h)
	}
	if tok := srv.Lookup(h.Token); tok == nil || tok.User != "alice" {
		t.Fatalf("stored token is not the server's: %v", tok)
	}
	assertNoSecret(t, h.Token, r)
	if len(e.opened) != 0 {
		t.Fatalf("--no-browser opened %v", e.opened)
	}
}

func TestLoginBrowser(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		env       map[string]string
		args      []string
		failOpen  bool
		wantOpen  bool
		wantInErr string
	}{
		{"X11 display", map[string]string{"DISPLAY": ":0"}, nil, false, true, "Opening "},
		{"Wayland display", map[string]string{"WAYLAND_DISPLAY": "wayland-0"}, nil, false, true, "Opening "},
		{"no display", nil, nil, false, false, "Open "},
		{"--no-browser", map[string]string{"DISPLAY": ":0"}, []string{"--no-browser"}, false, false, "Open "},
		{"launcher fails", map[string]string{"DISPLAY": ":0"}, nil, true, true, "could not open a browser"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := gatehousetest.NewServer(t)
			srv.SetDecide(gatehousetest.ApproveAt(1, gatehousetest.Decision{}))
			e := newEnv(t)
			e.env = tt.env
			e.failOpen = tt.failOpen
			r := e.mustRun("", append([]string{"auth", "login", "-s", srv.URL}, tt.args...)...)
			assertContains(t, "stderr", r.stderr, tt.wantInErr)
			if tt.wantOpen {
				g := srv.Grants()[0]
				if len(e.opened) != 1 || e.opened[0] != srv.URL+"/device?user_code="+g.UserCode {
					t.Fatalf("opened %v", e.opened)
				}
			} else if len(e.opened) != 0 {
				t.Fatalf("opened %v", e.opened)
			}
		})
	}
}

func TestLoginDeviceFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		setup   func(*gatehousetest.Server)
		args    []string
		wantErr string
	}{
		{"denied", func(s *gatehousetest.Server) {
			s.SetDecide(gatehousetest.ApproveAt(1, gatehousetest.Decision{Deny: true}))
		},
			nil, "was denied in the browser"},
		{"code expires", func(s *gatehousetest.Server) { s.SetExpiresIn(1) }, nil, "code expired before it was approved"},
		{"timeout", nil, []string{"--timeout", "1"}, "no approval within 1s; run the login again"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := gatehousetest.NewServer(t)
			if tt.setup != nil {
				tt.setup(srv)
			}
			e := newEnv(t)
			r := e.run("", append([]string{"auth", "login", "-s", srv.URL, "--no-browser"}, tt.args...)...)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1; stderr: %s", r.code, r.stderr)
			}
			assertContains(t, "stderr", r.stderr, tt.wantErr)
			if _, err := os.Stat(e.hostsPath()); err == nil {
				t.Fatal("a failed login wrote hosts.yml")
			}
		})
	}
}

func TestLoginWithToken(t *testing.T) {
	t.Parallel()
	srv := gatehousetest.NewServer(t)
	exp := time.Now().Add(90 * 24 * time.Hour).Truncate(time.Second).UTC()
	tok := srv.IssueToken("bob", []string{"papers:read"}, exp)
	e := newEnv(t)
	r := e.mustRun("  "+tok.Secret+"\r\n\n", "auth", "login", "-s", srv.URL, "--with-token")
	assertContains(t, "stdout", r.stdout, "✓ Logged in to", "as bob", tok.Hint(), "papers:read")
	assertNoSecret(t, tok.Secret, r)
	h := e.load().Host(hostKey(t, srv))
	if h == nil || h.Token != tok.Secret || h.User != "bob" || h.TokenID != tok.ID || !h.ExpiresAt.Equal(exp) {
		t.Fatalf("stored %+v", h)
	}

	// Logging in again replaces the token and says so.
	tok2 := srv.IssueToken("bob", nil, time.Time{})
	r = e.mustRun(tok2.Secret, "auth", "login", "-s", srv.URL, "--with-token")
	assertContains(t, "stderr", r.stderr, "replaced the token "+tok.Hint())
	assertContains(t, "stdout", r.stdout, "expires: never")
}

func TestLoginWithTokenRefusals(t *testing.T) {
	t.Parallel()
	srv := gatehousetest.NewServer(t)
	expired := srv.IssueToken("bob", nil, time.Now().Add(-time.Hour))
	revoked := srv.IssueToken("bob", nil, time.Time{})
	srv.Revoke(revoked.Secret)
	good := srv.IssueToken("bob", nil, time.Time{})
	tests := []struct {
		name    string
		stdin   string
		args    []string
		code    int
		wantErr string
	}{
		{"empty", "\n", nil, 1, "the token is empty"},
		{"two lines", good.Secret + "\n" + good.Secret + "\n", nil, 1, "more than one line"},
		{"spaces inside", "gth_abc def", nil, 1, "spaces"},
		{"unknown", "gth_" + strings.Repeat("Z", 36), nil, 1, "refused (unknown token)"},
		{"expired", expired.Secret, nil, 1, "expired on"},
		{"revoked", revoked.Secret, nil, 1, "was revoked; run: gatehouse auth login -s"},
		{"with --scopes", good.Secret, []string{"--scopes", "a"}, 2, "--scopes is for the device login"},
		{"with --no-browser", good.Secret, []string{"--no-browser"}, 2, "--no-browser is for the device login"},
		{"token as an argument", "", []string{good.Secret}, 2, "takes no arguments: give the server with -s HOST, and pipe a token to --with-token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			r := e.run(tt.stdin, append([]string{"auth", "login", "-s", srv.URL, "--with-token"}, tt.args...)...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d; stderr: %s", r.code, tt.code, r.stderr)
			}
			assertContains(t, "stderr", r.stderr, tt.wantErr)
			for _, secret := range []string{good.Secret, expired.Secret, revoked.Secret} {
				assertNoSecret(t, secret, r)
			}
			if _, err := os.Stat(e.hostsPath()); err == nil {
				t.Fatal("a refused token was stored")
			}
		})
	}
}

func TestStatus(t *testing.T) {
	t.Parallel()
	good := gatehousetest.NewServer(t)
	soon := gatehousetest.NewServer(t)
	gone := gatehousetest.NewServer(t)
	old := gatehousetest.NewServer(t)
	off := gatehousetest.NewServer(t)
	e := newEnv(t)
	e.loginWithToken(good, "alice", []string{"wiki:read", "papers:read"}, time.Now().Add(100*24*time.Hour))
	e.loginWithToken(soon, "bob", nil, time.Now().Add(3*24*time.Hour))
	revoked := e.loginWithToken(gone, "carol", []string{"wiki:read"}, time.Time{})
	gone.Revoke(revoked.Secret)
	expiring := e.loginWithToken(old, "dave", nil, time.Now().Add(2*time.Second))
	e.loginWithToken(off, "erin", nil, time.Now().Add(50*24*time.Hour))
	off.GoOffline()
	time.Sleep(time.Until(expiring.ExpiresAt.Add(10 * time.Millisecond)))

	r := e.run("", "auth", "status")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (some tokens do not work)\n%s%s", r.code, r.stdout, r.stderr)
	}
	lines := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		for _, srv := range []*gatehousetest.Server{good, soon, gone, old, off} {
			if strings.Contains(l, client.DisplayHost(hostKey(t, srv))+" ") {
				lines[srv.URL] = l
			}
		}
	}
	if len(lines) != 5 {
		t.Fatalf("want one line per host:\n%s", r.stdout)
	}
	assertContains(t, "good line", lines[good.URL], "✓", "alice", "gth_", "wiki:read papers:read", "valid until ")
	assertContains(t, "soon line", lines[soon.URL], "✓", "bob", "expires in 3 days")
	assertContains(t, "revoked line", lines[gone.URL], "✗", "carol", "revoked; run: gatehouse auth login -s")
	assertContains(t, "expired line", lines[old.URL], "✗", "dave", "expired on ")
	assertContains(t, "offline line", lines[off.URL], "!", "erin", "offline", "cannot reach", "stored: valid until")

	// Only one host, which works: exit 0, marked as the default.
	r = e.mustRun("", "auth", "status", "-s", good.URL)
	if n := strings.Count(r.stdout, "\n"); n != 1 {
		t.Fatalf("status -s printed %d lines", n)
	}

	empty := newEnv(t)
	r = empty.run("", "auth", "status")
	if r.code != 1 {
		t.Fatalf("status with nothing stored: exit %d", r.code)
	}
	assertContains(t, "stderr", r.stderr, "not logged in to any server; run: gatehouse auth login -s HOST")
}

func TestLogout(t *testing.T) {
	t.Parallel()
	srv := gatehousetest.NewServer(t)
	e := newEnv(t)
	tok := e.loginWithToken(srv, "alice", nil, time.Time{})
	r := e.mustRun("", "auth", "logout")
	assertContains(t, "stdout", r.stdout, "✓ Revoked token "+tok.Hint(), "✓ Logged out of ")
	if !srv.Lookup(tok.Secret).Revoked {
		t.Fatal("the token was not revoked on the server")
	}
	if len(e.load().Hosts) != 0 {
		t.Fatal("the token is still stored")
	}
	r = e.run("", "auth", "logout")
	if r.code != 1 {
		t.Fatalf("second logout: exit %d", r.code)
	}
	assertContains(t, "stderr", r.stderr, "not logged in")
}

func TestLogoutAlreadyRevokedOrOffline(t *testing.T) {
	t.Parallel()
	revokedSrv := gatehousetest.NewServer(t)
	offSrv := gatehousetest.NewServer(t)
	keep := gatehousetest.NewServer(t)
	e := newEnv(t)
	tok := e.loginWithToken(revokedSrv, "alice", nil, time.Time{})
	revokedSrv.Revoke(tok.Secret)
	e.loginWithToken(offSrv, "alice", nil, time.Time{})
	e.loginWithToken(keep, "alice", nil, time.Time{})
	offSrv.GoOffline()

	// Several hosts and no default: logout must be told which.
	r := e.run("", "auth", "logout")
	if r.code != 1 {
		t.Fatalf("logout with several hosts: exit %d", r.code)
	}
	assertContains(t, "stderr", r.stderr, "several servers stored", "config set server HOST")

	r = e.mustRun("", "auth", "logout", "-s", revokedSrv.URL)
	assertContains(t, "stderr", r.stderr, "already refuses the token", "token revoked")
	r = e.mustRun("", "auth", "logout", "-s", offSrv.URL)
	assertContains(t, "stderr", r.stderr, "could not revoke", "cannot reach", "removing it locally anyway")
	assertContains(t, "stdout", r.stdout, "✓ Logged out of")

	f := e.load()
	if len(f.Hosts) != 1 || f.Host(hostKey(t, keep)) == nil {
		t.Fatalf("left %v", f.SortedHosts())
	}
}
