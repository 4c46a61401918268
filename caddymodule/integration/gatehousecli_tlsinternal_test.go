package integration

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// freePort is a loopback port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestCLIInsecureTLSInternal: against a `tls internal` site (Caddy's own
// CA, which nothing here trusts), run by the built caddy binary in a
// process of its own (the in-process harness turns automatic HTTPS off),
// a login fails on the certificate and says so; with --insecure it works,
// is remembered for the server, and every command warns that the
// certificate is not verified.
func TestCLIInsecureTLSInternal(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "gatehouse.db")
	caddyEnv := append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+filepath.Join(dir, "data"), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"))
	offline := func(stdin string, args ...string) {
		t.Helper()
		cmd := exec.Command(caddyBin, append(args, "--store", store, "--address", fmt.Sprintf("localhost:%d", freePort(t)))...)
		cmd.Env, cmd.Stdin = caddyEnv, strings.NewReader(stdin)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("caddy %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	offline("", "gatehouse", "user", "add", "alice")
	offline(cliPassword+"\n", "gatehouse", "user", "passwd", "alice", "--password-stdin")

	port, httpPort := freePort(t), freePort(t)
	caddyfile := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(caddyfile, []byte(fmt.Sprintf(`{
	admin off
	skip_install_trust
	http_port %d
	storage file_system %s
	gatehouse {
		store %s
		scopes wiki:read
	}
}
https://localhost:%d {
	tls internal
	gatehouse {
		endpoints
		default authenticated
	}
	respond "behind the gate"
}
`, httpPort, filepath.Join(dir, "certs"), store, port)), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := exec.Command(caddyBin, "run", "--config", caddyfile, "--adapter", "caddyfile")
	srv.Env = caddyEnv
	var logs bytes.Buffer
	srv.Stdout, srv.Stderr = &logs, &logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = srv.Process.Kill()
		_ = srv.Wait()
		if t.Failed() {
			t.Logf("caddy's output:\n%s", logs.String())
		}
	})
	// Ready once it completes a TLS handshake with its internal
	// certificate.
	addr := fmt.Sprintf("localhost:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"})
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("caddy never served TLS on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond) // polling for readiness, not ordering
	}

	server := "https://" + addr
	h := newCLIHome(t)
	login := func(extra ...string) cliResult {
		return h.run(strings.NewReader(cliPassword+"\n"), append([]string{"auth", "login", "-s", server, "-u", "alice", "--password-stdin"}, extra...)...)
	}
	res := login()
	if res.code != 1 || !strings.Contains(res.stderr, "TLS connection to "+server+" failed: tls: failed to verify certificate") {
		t.Fatalf("without --insecure:\n%v", res)
	}
	res = login("--insecure")
	if res.code != 0 || !strings.Contains(res.stderr, "not verified (--insecure)") || !strings.Contains(res.stdout, "as alice") {
		t.Fatalf("with --insecure:\n%v", res)
	}
	if !h.hostsFile().Host(server).Insecure {
		t.Error("--insecure was not remembered")
	}
	for _, args := range [][]string{{"api", "-s", server, "/anything"}, {"auth", "status", "-s", server}} {
		res = h.mustRun(nil, args...)
		if !strings.Contains(res.stderr, "not verified (--insecure)") {
			t.Errorf("%v does not warn:\n%v", args, res)
		}
	}
	if res := h.mustRun(nil, "api", "-s", server, "/anything"); !strings.Contains(res.stdout, "behind the gate") {
		t.Errorf("api through the gate:\n%v", res)
	}
}
