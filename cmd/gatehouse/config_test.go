package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/client/gatehousetest"
)

func TestConfigSetServer(t *testing.T) {
	t.Parallel()
	a := gatehousetest.NewServer(t)
	b := gatehousetest.NewServer(t)
	e := newEnv(t)
	e.loginWithToken(a, "alice", nil, time.Time{})

	// One host: it is the default.
	if got := echoed(t, e.mustRun("", "api", "/v1/x").stdout)["user"]; got != "alice" {
		t.Fatalf("api went to %q", got)
	}
	e.loginWithToken(b, "bob", nil, time.Time{})
	r := e.run("", "api", "/v1/x")
	if r.code != 1 {
		t.Fatalf("two hosts, no default: exit %d", r.code)
	}
	assertContains(t, "stderr", r.stderr, "name one with -s HOST, or choose a default: gatehouse config set server HOST")

	r = e.mustRun("", "config", "set", "server", b.URL+"/")
	assertContains(t, "stdout", r.stdout, "✓ Default server is now 127.0.0.1:")
	if got := echoed(t, e.mustRun("", "api", "/v1/x").stdout)["user"]; got != "bob" {
		t.Fatalf("api went to %q, want the default", got)
	}
	if got := strings.TrimSpace(e.mustRun("", "config", "get", "server").stdout); got != strings.TrimPrefix(b.URL, "http://") {
		t.Fatalf("config get server = %q", got)
	}
	// -s overrides the default.
	if got := echoed(t, e.mustRun("", "api", "-s", a.URL, "/v1/x").stdout)["user"]; got != "alice" {
		t.Fatalf("api -s went to %q", got)
	}
	status := e.mustRun("", "auth", "status").stdout
	for _, l := range strings.Split(status, "\n") {
		if strings.Contains(l, "(default)") && !strings.Contains(l, "bob") {
			t.Fatalf("wrong default in status:\n%s", status)
		}
	}
	// Logging out of the default forgets the setting.
	e.mustRun("", "auth", "logout")
	if f := e.load(); f.DefaultServer != "" || len(f.Hosts) != 1 {
		t.Fatalf("after logout: default %q, %d hosts", f.DefaultServer, len(f.Hosts))
	}

	r = e.mustRun("", "config", "set", "server", "example.com")
	assertContains(t, "stderr", r.stderr, "no token is stored for example.com yet")
	for _, args := range [][]string{{"config", "set", "color", "x"}, {"config", "set", "server", "a/b"}, {"config", "get"}} {
		if r := e.run("", args...); r.code != 2 {
			t.Errorf("gatehouse %v: exit %d, want 2", args, r.code)
		}
	}
}

func TestCommandsRefuseAnOpenHostsFile(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("mode bits")
	}
	srv := gatehousetest.NewServer(t)
	e := newEnv(t)
	tok := e.loginWithToken(srv, "alice", nil, time.Time{})
	if err := os.Chmod(e.hostsPath(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"api", "/v1/x"}, {"auth", "status"}, {"auth", "logout"}, {"config", "set", "server", "x.example"},
		{"auth", "login", "-s", srv.URL, "--no-browser"},
	} {
		r := e.run("", args...)
		if r.code != 1 {
			t.Errorf("gatehouse %v: exit %d, want 1", args, r.code)
		}
		assertContains(t, "stderr", r.stderr, "chmod 600 "+e.hostsPath())
	}
	if srv.Lookup(tok.Secret).Revoked {
		t.Fatal("logout revoked a token despite refusing the file")
	}
	if len(srv.Grants()) != 0 {
		t.Fatal("login started a device flow it could not store")
	}
	if err := os.Chmod(e.hostsPath(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Dir(e.hostsPath()), 0o755); err != nil {
		t.Fatal(err)
	}
	r := e.run("", "auth", "status")
	assertContains(t, "stderr", r.stderr, "chmod 700 "+filepath.Dir(e.hostsPath()))
}

func TestCommandsRefuseACorruptedHostsFile(t *testing.T) {
	t.Parallel()
	srv := gatehousetest.NewServer(t)
	e := newEnv(t)
	if err := os.MkdirAll(e.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	const junk = "hosts:\n  - this is: [not, what\n"
	if err := os.WriteFile(e.hostsPath(), []byte(junk), 0o600); err != nil {
		t.Fatal(err)
	}
	tok := srv.IssueToken("alice", nil, time.Time{})
	for _, args := range [][]string{
		{"auth", "login", "-s", srv.URL, "--with-token"}, {"auth", "status"}, {"api", "/v1/x"},
		{"config", "set", "server", srv.URL},
	} {
		r := e.run(tok.Secret, args...)
		if r.code != 1 {
			t.Errorf("gatehouse %v: exit %d, want 1", args, r.code)
		}
		assertContains(t, "stderr", r.stderr, "hosts file "+e.hostsPath()+" cannot be used", "left unchanged")
	}
	if got, _ := os.ReadFile(e.hostsPath()); string(got) != junk {
		t.Fatalf("the corrupted file was rewritten:\n%s", got)
	}
}
