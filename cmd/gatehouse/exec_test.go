package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/client"
	"github.com/gatehouse/gatehouse/client/gatehousetest"
)

// execGatehouse runs the built binary with a clean environment whose
// config directory is xdg.
func execGatehouse(t *testing.T, xdg, stdin string, args ...string) result {
	t.Helper()
	if binary == "" {
		t.Skip("no go tool to build the binary")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "XDG_CONFIG_HOME=" + xdg}
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("running gatehouse: %v", err)
		}
		code = ee.ExitCode()
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

func TestBinaryLoginWithTokenFromPipe(t *testing.T) {
	t.Parallel()
	srv := gatehousetest.NewServer(t)
	tok := srv.IssueToken("alice", []string{"wiki:read"}, time.Now().Add(30*24*time.Hour))
	xdg := t.TempDir()
	r := execGatehouse(t, xdg, tok.Secret+"\n", "auth", "login", "-s", srv.URL, "--with-token")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	assertContains(t, "stdout", r.stdout, "✓ Logged in to 127.0.0.1:", "as alice", tok.Hint())
	assertNoSecret(t, tok.Secret, r)

	path := filepath.Join(xdg, "gatehouse", "hosts.yml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("hosts.yml not where XDG_CONFIG_HOME says: %v", err)
	}
	assertContains(t, "hosts.yml", string(data), "token: "+tok.Secret, "user: alice", "added_at:")
	if runtime.GOOS != "windows" {
		for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != want {
				t.Errorf("%s has mode %04o, want %04o", p, got, want)
			}
		}
	}

	r = execGatehouse(t, xdg, "", "api", "/v1/hello")
	if r.code != 0 || !strings.Contains(r.stdout, `"user":"alice"`) {
		t.Fatalf("api: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = execGatehouse(t, xdg, "", "api", "/status/418")
	if r.code != 1 || !strings.Contains(r.stderr, "418") {
		t.Fatalf("api of a 418: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestBinaryConcurrentLogins logs in to four servers at once from four
// processes sharing one hosts.yml: no entry may be lost.
func TestBinaryConcurrentLogins(t *testing.T) {
	t.Parallel()
	xdg := t.TempDir()
	var servers []*gatehousetest.Server
	for range 4 {
		srv := gatehousetest.NewServer(t)
		srv.SetDecide(gatehousetest.ApproveAt(1, gatehousetest.Decision{User: "alice"}))
		servers = append(servers, srv)
	}
	var wg sync.WaitGroup
	results := make([]result, len(servers))
	for i, srv := range servers {
		wg.Go(func() {
			if i%2 == 0 {
				results[i] = execGatehouse(t, xdg, "", "auth", "login", "-s", srv.URL, "--no-browser")
				return
			}
			tok := srv.IssueToken("bob", nil, time.Time{})
			results[i] = execGatehouse(t, xdg, tok.Secret, "auth", "login", "-s", srv.URL, "--with-token")
		})
	}
	wg.Wait()
	for i, r := range results {
		if r.code != 0 {
			t.Fatalf("login %d: exit %d\n%s%s", i, r.code, r.stdout, r.stderr)
		}
	}
	f, err := client.NewStore(filepath.Join(xdg, "gatehouse", "hosts.yml")).Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, srv := range servers {
		if f.Host(hostKey(t, srv)) == nil {
			t.Errorf("the login to %s was lost", srv.URL)
		}
	}
}

func TestBinaryCorruptedHostsFile(t *testing.T) {
	t.Parallel()
	xdg := t.TempDir()
	dir := filepath.Join(xdg, "gatehouse")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	const junk = "{{{ not yaml"
	path := filepath.Join(dir, "hosts.yml")
	if err := os.WriteFile(path, []byte(junk), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := gatehousetest.NewServer(t)
	tok := srv.IssueToken("alice", nil, time.Time{})
	r := execGatehouse(t, xdg, tok.Secret, "auth", "login", "-s", srv.URL, "--with-token")
	if r.code != 1 {
		t.Fatalf("exit %d", r.code)
	}
	assertContains(t, "stderr", r.stderr, path)
	if got, _ := os.ReadFile(path); string(got) != junk {
		t.Fatal("the corrupted file was overwritten")
	}
}
