package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/client/gatehousetest"
)

// echoed decodes what the fake's echo handler saw.
func echoed(t *testing.T, stdout string) map[string]string {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal([]byte(stdout), &m); err != nil {
		t.Fatalf("stdout is not the echo: %v\n%s", err, stdout)
	}
	return m
}

func TestAPI(t *testing.T) {
	t.Parallel()
	srv := gatehousetest.NewServer(t)
	e := newEnv(t)
	tok := e.loginWithToken(srv, "alice", []string{"wiki:read"}, time.Now().Add(60*24*time.Hour))

	dataFile := filepath.Join(t.TempDir(), "body.json")
	if err := os.WriteFile(dataFile, []byte(`{"from":"file"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  map[string]string
	}{
		{"GET", "", []string{"/v1/papers?q=gates"}, map[string]string{"method": "GET", "path": "/v1/papers", "query": "q=gates", "user": "alice"}},
		{"path without slash", "", []string{"v1/papers"}, map[string]string{"path": "/v1/papers"}},
		{"JSON data is a POST", "", []string{"-d", `{"title":"t"}`, "/v1/papers"},
			map[string]string{"method": "POST", "body": `{"title":"t"}`, "content_type": "application/json"}},
		{"form data", "", []string{"-d", "a=1&b=2", "/v1/papers"},
			map[string]string{"method": "POST", "body": "a=1&b=2", "content_type": "application/x-www-form-urlencoded"}},
		{"method and header", "", []string{"-X", "put", "-H", "Content-Type: text/plain", "-d", "x", "/v1/papers/1"},
			map[string]string{"method": "PUT", "content_type": "text/plain", "body": "x"}},
		{"data from a file", "", []string{"-d", "@" + dataFile, "/v1/papers"}, map[string]string{"body": `{"from":"file"}`}},
		{"data from stdin", "from stdin", []string{"-d", "@-", "/v1/papers"}, map[string]string{"body": "from stdin"}},
		{"DELETE", "", []string{"-X", "DELETE", "/v1/papers/1"}, map[string]string{"method": "DELETE"}},
		{"full URL", "", []string{srv.URL + "/v1/full?x=1"}, map[string]string{"path": "/v1/full", "query": "x=1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.mustRun(tt.stdin, append([]string{"api"}, tt.args...)...)
			got := echoed(t, r.stdout)
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("server saw %s = %q, want %q", k, got[k], v)
				}
			}
			if r.stderr != "" {
				t.Errorf("stderr: %s", r.stderr)
			}
			assertNoSecret(t, tok.Secret, r)
		})
	}
}

func TestAPIErrors(t *testing.T) {
	t.Parallel()
	srv := gatehousetest.NewServer(t)
	srv.RequireScopes("/v1/admin", "papers:write")
	e := newEnv(t)
	e.loginWithToken(srv, "alice", []string{"wiki:read"}, time.Time{})
	other := gatehousetest.NewServer(t)

	tests := []struct {
		name     string
		args     []string
		code     int
		inStdout string
		inStderr []string
	}{
		{"404 prints the body and fails", []string{"/status/404"}, 1, `"status 404 as asked"`,
			[]string{"GET /status/404 on 127.0.0.1:", "404 Not Found: status 404 as asked"}},
		{"500", []string{"-X", "POST", "/status/500"}, 1, "", []string{"500 Internal Server Error"}},
		{"insufficient scope", []string{"/v1/admin"}, 1, "insufficient_scope",
			[]string{"lacks scope papers:write", "gatehouse auth login -s 127.0.0.1:", "--scopes wiki:read,papers:write"}},
		{"not logged in to that host: anonymous, and the 401 says how to log in", []string{"-s", other.URL, "/v1/x"}, 1, "unauthorized",
			[]string{"wants a token and none was sent", "gatehouse auth login -s 127.0.0.1:"}},
		{"URL of another host", []string{"-s", srv.URL, other.URL + "/v1/x"}, 2, "", []string{"is not on"}},
		{"Authorization header", []string{"-H", "Authorization: Bearer x", "/v1/x"}, 2, "", []string{"cannot be given"}},
		{"bad header", []string{"-H", "nocolon", "/v1/x"}, 2, "", []string{"is not 'Name: value'"}},
		{"no path", nil, 2, "", []string{"want one PATH"}},
		{"missing data file", []string{"-d", "@/nonexistent/file", "/v1/x"}, 1, "", []string{"reading -d"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.run("", append([]string{"api"}, tt.args...)...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tt.code, r.stdout, r.stderr)
			}
			if tt.inStdout != "" {
				assertContains(t, "stdout", r.stdout, tt.inStdout)
			}
			assertContains(t, "stderr", r.stderr, tt.inStderr...)
		})
	}
}

func TestAPIExpiredToken(t *testing.T) {
	t.Parallel()
	srv := gatehousetest.NewServer(t)
	e := newEnv(t)
	tok := e.loginWithToken(srv, "alice", nil, time.Now().Add(1500*time.Millisecond))
	time.Sleep(time.Until(tok.ExpiresAt) + 50*time.Millisecond)
	r := e.run("", "api", "/v1/x")
	if r.code != 1 {
		t.Fatalf("exit %d", r.code)
	}
	want := "token for " + strings.TrimPrefix(srv.URL, "http://") + " expired on "
	assertContains(t, "stderr", r.stderr, want, "; run: gatehouse auth login -s "+strings.TrimPrefix(srv.URL, "http://"))
	// Exactly one request: auth errors are not retried.
	n := 0
	for _, req := range srv.Requests() {
		if req.Path == "/v1/x" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d requests to /v1/x, want 1", n)
	}
}

func TestAPIExpiryWarning(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		exp  time.Duration
		warn bool
	}{
		{"in 3 days", 3 * 24 * time.Hour, true},
		{"in 6 days", 6 * 24 * time.Hour, true},
		{"in 8 days", 8 * 24 * time.Hour, false},
		{"never", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := gatehousetest.NewServer(t)
			e := newEnv(t)
			var exp time.Time
			if tt.exp != 0 {
				exp = time.Now().Add(tt.exp)
			}
			e.loginWithToken(srv, "alice", nil, exp)
			r := e.mustRun("", "api", "/v1/x")
			warned := strings.Contains(r.stderr, "expires in")
			if warned != tt.warn {
				t.Fatalf("warned = %v, want %v; stderr: %s", warned, tt.warn, r.stderr)
			}
			if tt.warn {
				assertContains(t, "stderr", r.stderr, "to renew it, run: gatehouse auth login -s ")
			}
		})
	}
}

func TestAPIRateLimited(t *testing.T) {
	t.Parallel()
	srv := gatehousetest.NewServer(t)
	e := newEnv(t)
	e.loginWithToken(srv, "alice", nil, time.Time{})

	srv.RateLimit(1, 1)
	r := e.mustRun("", "api", "/v1/x")
	assertContains(t, "stderr", r.stderr, "rate limited by", "retrying in 1s")
	echoed(t, r.stdout)

	srv.RateLimit(1, 1)
	r = e.run("", "api", "-X", "POST", "/v1/x")
	if r.code != 1 {
		t.Fatalf("rate-limited POST: exit %d", r.code)
	}
	assertContains(t, "stderr", r.stderr, "rate limited by", "retry in 1s")
	if strings.Contains(r.stderr, "retrying") {
		t.Fatal("a POST was retried")
	}
}

func TestAPIUnreachable(t *testing.T) {
	t.Parallel()
	srv := gatehousetest.NewServer(t)
	e := newEnv(t)
	e.loginWithToken(srv, "alice", nil, time.Time{})
	srv.GoOffline()
	r := e.run("", "--request-timeout", "5", "api", "/v1/x")
	if r.code != 1 {
		t.Fatalf("exit %d", r.code)
	}
	assertContains(t, "stderr", r.stderr, "cannot reach "+strings.TrimPrefix(srv.URL, "http://"))
}
