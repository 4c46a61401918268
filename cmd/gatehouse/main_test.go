package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/client"
	"github.com/gatehouse/gatehouse/client/gatehousetest"
	"github.com/gatehouse/gatehouse/internal/testenv"
)

// binary is the gatehouse command built once by TestMain for the tests
// that run it as a process; empty if it could not be built.
var binary string

func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "gatehouse-cli-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		if gotool, err := exec.LookPath("go"); err == nil {
			out := filepath.Join(dir, "gatehouse")
			build := exec.Command(gotool, "build", "-o", out, ".")
			if msg, err := build.CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "building gatehouse: %v\n%s", err, msg)
				return 1
			}
			binary = out
		}
		// After the build: the go command keeps its caches in the home.
		home, restore, err := testenv.Isolate()
		if err != nil {
			fmt.Fprintln(os.Stderr, "test home:", err)
			return 1
		}
		defer restore()
		if err := testenv.Check(home); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

// testEnv is one user's machine: a config directory, an environment and
// a browser that records what it was asked to open.
type testEnv struct {
	t        *testing.T
	dir      string
	env      map[string]string
	mu       sync.Mutex
	opened   []string
	failOpen bool
	// keyring, if set, is the keychain the runs use.
	keyring client.Keyring
	// tty makes stdin a terminal; secrets are what its no-echo reads
	// return, in order.
	tty     bool
	secrets []string
}

func newEnv(t *testing.T) *testEnv {
	t.Helper()
	return &testEnv{t: t, dir: filepath.Join(t.TempDir(), "gatehouse"), env: map[string]string{}}
}

func (e *testEnv) hostsPath() string { return filepath.Join(e.dir, "hosts.yml") }

// result is what one command printed and returned.
type result struct {
	stdout, stderr string
	code           int
}

// run runs gatehouse in-process with stdin.
func (e *testEnv) run(stdin string, args ...string) result {
	e.t.Helper()
	var stdout, stderr bytes.Buffer
	a := newApp(strings.NewReader(stdin), &stdout, &stderr)
	a.hostsPath = e.hostsPath()
	a.goos = "linux"
	a.getenv = func(k string) string { return e.env[k] }
	a.keyring = e.keyring
	if e.tty {
		a.isTerminal = func() bool { return true }
		a.readSecret = func() (string, error) {
			e.mu.Lock()
			defer e.mu.Unlock()
			if len(e.secrets) == 0 {
				return "", fmt.Errorf("no more input")
			}
			s := e.secrets[0]
			e.secrets = e.secrets[1:]
			return s, nil
		}
	}
	a.openBrowser = func(u string) error {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.opened = append(e.opened, u)
		if e.failOpen {
			return fmt.Errorf("no browser here")
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(e.t.Context(), 60*time.Second)
	defer cancel()
	code := a.run(ctx, args)
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// mustRun runs a command that should succeed.
func (e *testEnv) mustRun(stdin string, args ...string) result {
	e.t.Helper()
	r := e.run(stdin, args...)
	if r.code != 0 {
		e.t.Fatalf("gatehouse %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// load reads hosts.yml.
func (e *testEnv) load() *client.HostsFile {
	e.t.Helper()
	f, err := client.NewStore(e.hostsPath()).Load()
	if err != nil {
		e.t.Fatal(err)
	}
	return f
}

// loginWithToken stores a fresh token of srv for user.
func (e *testEnv) loginWithToken(srv *gatehousetest.Server, user string, scopes []string, exp time.Time) *gatehousetest.Token {
	e.t.Helper()
	tok := srv.IssueToken(user, scopes, exp)
	e.mustRun(tok.Secret+"\n", "auth", "login", "-s", srv.URL, "--with-token")
	return tok
}

// hostKey is the hosts.yml key of a fake.
func hostKey(t *testing.T, srv *gatehousetest.Server) string {
	t.Helper()
	k, err := client.NormalizeHost(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func assertContains(t *testing.T, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, s)
		}
	}
}

func assertNoSecret(t *testing.T, secret string, r result) {
	t.Helper()
	if secret != "" && (strings.Contains(r.stdout, secret) || strings.Contains(r.stderr, secret)) {
		t.Errorf("the token was printed:\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
	}
}
