package integration

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// binServer is `caddy run` of the built binary, as an operator runs it.
type binServer struct {
	t       *testing.T
	cmd     *exec.Cmd
	file    string
	output  *bytes.Buffer
	address string
	exited  chan struct{} // closed when the process has ended
}

// startBinary writes caddyfile and runs it with the built binary on the
// run's binary ports, waiting until the admin API answers.
func startBinary(t *testing.T, caddyfile string) *binServer {
	t.Helper()
	requireUnused(t, binAdminPort, binHTTPPort)
	return runBinary(t, caddyfile, binAdminPort)
}

// runBinary writes caddyfile into a fresh directory, which is also the
// process's HOME and XDG dirs, runs it with the built binary, and waits
// until the admin API on adminPort answers or the process ends; the
// deadline is for a server that hangs, not for a slow machine.
func runBinary(t *testing.T, caddyfile string, adminPort int) *binServer {
	t.Helper()
	dir := t.TempDir()
	s := &binServer{t: t, file: filepath.Join(dir, "Caddyfile"), output: &bytes.Buffer{}, address: fmt.Sprintf("localhost:%d", adminPort)}
	if err := os.WriteFile(s.file, []byte(caddyfile), 0o600); err != nil {
		t.Fatal(err)
	}
	s.cmd = exec.Command(caddyBin, "run", "--config", s.file)
	s.cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
	s.cmd.Stdout, s.cmd.Stderr = s.output, s.output
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.exited = make(chan struct{})
	go func() { s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(s.stop)
	deadline := time.After(2 * time.Minute)
	for {
		resp, err := http.Get("http://" + s.address + "/config/")
		if err == nil {
			resp.Body.Close()
			return s
		}
		select {
		case <-s.exited:
			t.Fatalf("caddy exited before it served:\n%s", s.output)
		case <-deadline:
			t.Fatalf("caddy did not start:\n%s", s.output)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (s *binServer) stop() {
	select {
	case <-s.exited:
		return
	default:
	}
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second): // then it is cleanup, not a test
		s.cmd.Process.Kill()
		<-s.exited
	}
}

// rewrite replaces the Caddyfile and runs `caddy reload`.
func (s *binServer) reload(caddyfile string) (string, error) {
	s.t.Helper()
	if err := os.WriteFile(s.file, []byte(caddyfile), 0o600); err != nil {
		s.t.Fatal(err)
	}
	out, err := exec.Command(caddyBin, "reload", "--config", s.file).CombinedOutput()
	return string(out), err
}

// gatehouse runs `caddy gatehouse …` against this server.
func (s *binServer) gatehouse(args ...string) (string, string, error) {
	s.t.Helper()
	return runCaddy(s.t, append(append([]string{"gatehouse"}, args...), "--address", s.address)...)
}
