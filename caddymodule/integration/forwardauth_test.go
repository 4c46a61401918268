package integration

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// forwardAuthSite is the gateway site that only judges: forward-auth
// mode with the registry's rules, and the assertion.
const forwardAuthSite = `endpoints
forward_auth
assertion {
	audience https://api.test
}
rule GET /v1/knowledge/* scope read
rule DELETE /v1/knowledge/* any {
	scope admin
	scope write
}
default deny`

// identityHeaders are what the proxies copy from Gatehouse's answer.
var identityHeaders = []string{"Gatehouse-User", "Gatehouse-User-Id", "Gatehouse-Scopes", "Gatehouse-Credential", "Gatehouse-Tier", "Gatehouse-Token-Id", "Gatehouse-Assertion"}

// findNginx is the nginx binary, or a skip (a failure with
// GATEHOUSE_REQUIRE_NGINX=1, as CI sets).
func findNginx(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("GATEHOUSE_NGINX"), "/usr/sbin/nginx"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if os.Getenv("GATEHOUSE_REQUIRE_NGINX") == "1" {
		t.Fatal("nginx not found and GATEHOUSE_REQUIRE_NGINX=1 (apt-get install -y nginx)")
	}
	t.Skip("nginx not found; install it (apt-get install -y nginx) or set GATEHOUSE_NGINX")
	return ""
}

// startNginx runs nginx in the foreground as a child of the test, with a
// prefix and every temp path in a temp dir and the config given, and
// waits until it accepts connections on port.
func startNginx(t *testing.T, conf string, port int) {
	t.Helper()
	bin := findNginx(t)
	// Waiting for the port below would take another server that answers
	// there for this nginx.
	requireUnused(t, port)
	dir := t.TempDir()
	full := fmt.Sprintf(`daemon off;
master_process off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log info;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	%[2]s
}
`, dir, conf)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(full), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-p", dir, "-c", path, "-e", filepath.Join(dir, "error.log"))
	out, _ := os.Create(filepath.Join(dir, "stderr"))
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting nginx: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cancel()
		<-exited
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx error log:\n%s", log)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "stderr"))
			t.Fatalf("nginx exited: %v\n%s", err, log)
		default:
		}
		if c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 100*time.Millisecond); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("nginx did not start listening")
		}
		time.Sleep(20 * time.Millisecond) // polling for readiness, not synchronising on time
	}
}

// nginxConf is the README's nginx example: auth_request to Gatehouse,
// the identity copied from its answer onto the proxied request. Every
// identity header is set with proxy_set_header, which replaces the
// client's copy; an empty value drops it.
func nginxConf(port int, gateway, upstream string) string {
	var set, copy strings.Builder
	for _, h := range identityHeaders {
		v := "$gh_" + strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(h, "Gatehouse-")), "-", "_")
		fmt.Fprintf(&set, "\t\t\tauth_request_set %s $upstream_http_%s;\n", v, strings.ReplaceAll(strings.ToLower(h), "-", "_"))
		fmt.Fprintf(&copy, "\t\t\tproxy_set_header %s %s;\n", h, v)
	}
	return fmt.Sprintf(`server {
		listen 127.0.0.1:%d;
		location = /_gatehouse {
			internal;
			proxy_pass http://%s/gatehouse/auth;
			proxy_pass_request_body off;
			proxy_set_header Content-Length "";
			proxy_set_header X-Original-Method $request_method;
			proxy_set_header X-Original-URI $request_uri;
			proxy_set_header X-Forwarded-For $remote_addr;
			proxy_set_header X-Forwarded-Host $host;
		}
		location / {
			auth_request /_gatehouse;
%s%s			proxy_set_header Authorization "";
			proxy_pass http://%s;
		}
	}`, port, gateway, set.String(), copy.String(), upstream)
}

// forwardAuthCase is one request through a proxy in front of Gatehouse.
type forwardAuthCase struct {
	method, path, tok string
	status            int
}

// checkForwardAuth sends each case through the proxy at base and checks
// what the upstream got: the identity on success (with a verifiable
// assertion), never the client's forged headers, and nothing at all on
// a refusal.
func checkForwardAuth(t *testing.T, g *gateway, base string, cases []forwardAuthCase) {
	t.Helper()
	v := &assertionVerifier{jwksURL: g.base + "/.well-known/gatehouse/jwks.json", issuer: "gatehouse", audience: "https://api.test"}
	for _, tc := range cases {
		hits := g.upstream.hitCount()
		req, _ := http.NewRequest(tc.method, base+tc.path, nil)
		req.Header.Set("Gatehouse-User", "mallory")
		req.Header.Set("Gatehouse-Assertion", "forged")
		if tc.tok != "" {
			req.Header.Set("Authorization", "Bearer "+tc.tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, resp.StatusCode, tc.status)
			continue
		}
		if tc.status != 200 {
			if g.upstream.hitCount() != hits {
				t.Errorf("%s %s: refused, yet the upstream was called", tc.method, tc.path)
			}
			continue
		}
		up := g.upstream.lastRequest()
		if up.Method != tc.method || up.URL.Path != tc.path {
			t.Errorf("upstream got %s %s", up.Method, up.URL.Path)
		}
		if got := up.Header.Values("Gatehouse-User"); len(got) != 1 || got[0] == "mallory" {
			t.Errorf("%s %s: Gatehouse-User %q", tc.method, tc.path, got)
		}
		if up.Header.Get("Authorization") != "" {
			t.Errorf("the token reached the upstream")
		}
		a := up.Header.Get("Gatehouse-Assertion")
		if v.keys.Keys == nil {
			v.fetch(t)
		}
		claims, err := v.verify(a)
		if err != nil {
			t.Errorf("%s %s: assertion %q: %v", tc.method, tc.path, a, err)
		} else if claims["login"] != up.Header.Get("Gatehouse-User") {
			t.Errorf("assertion login %v, header %s", claims["login"], up.Header.Get("Gatehouse-User"))
		}
	}
}

func forwardAuthCases(g *gateway) []forwardAuthCase {
	g.addUser("alice")
	g.addUser("bob")
	alice := g.mint("alice", 7, "read", "write")
	bob := g.mint("bob", 7, "read")
	return []forwardAuthCase{
		{"GET", "/v1/knowledge/k1", alice, 200},
		{"DELETE", "/v1/knowledge/k1", alice, 200},
		{"GET", "/v1/knowledge/k1", bob, 200},
		{"DELETE", "/v1/knowledge/k1", bob, 403},
		{"GET", "/v1/knowledge/k1", "", 401},
		{"GET", "/v1/knowledge/k1", alice[:len(alice)-1] + "x", 401},
		{"GET", "/elsewhere", alice, 403},
	}
}

// TestForwardAuthNginx puts a real nginx in front: auth_request asks
// Gatehouse, which judges the original method and URI by the site's
// rules; the upstream behind nginx sees the identity Gatehouse answered.
func TestForwardAuthNginx(t *testing.T) {
	findNginx(t)
	g := newGateway(t, setup{global: registryGlobal, site: forwardAuthSite, servers: "trusted_proxies static 127.0.0.1/32"})
	startNginx(t, nginxConf(nginxPort, strings.TrimPrefix(g.base, "http://"), strings.TrimPrefix(g.upstream.URL, "http://")), nginxPort)
	checkForwardAuth(t, g, fmt.Sprintf("http://127.0.0.1:%d", nginxPort), forwardAuthCases(g))
}

// TestForwardAuthCaddy uses Caddy's own forward_auth in front, as
// another Caddy (here a second site) would.
func TestForwardAuthCaddy(t *testing.T) {
	gw := fmt.Sprintf("127.0.0.1:%d", httpPort)
	g := newGateway(t, setup{global: registryGlobal, site: forwardAuthSite, servers: "trusted_proxies static 127.0.0.1/32",
		extra: fmt.Sprintf(`http://127.0.0.1:%d {
	forward_auth %s {
		uri /gatehouse/auth
		header_up Host %s
		copy_headers %s
	}
	request_header -Authorization
	reverse_proxy {upstream}
}
`, forwardAuthPort, gw, gw, strings.Join(identityHeaders, " "))})
	base := fmt.Sprintf("http://127.0.0.1:%d", forwardAuthPort)
	checkForwardAuth(t, g, base, forwardAuthCases(g))

	// Caddy's forward_auth sets X-Forwarded-Method/-Uri and passes the
	// client's other headers on: a client's X-Original-* must not get
	// bob's DELETE judged as the GET he may do.
	bob := g.mint("bob", 7, "read")
	hits := g.upstream.hitCount()
	req, _ := http.NewRequest("DELETE", base+"/v1/knowledge/k1", nil)
	req.Header.Set("Authorization", "Bearer "+bob)
	req.Header.Set("X-Original-Method", "GET")
	req.Header.Set("X-Original-URI", "/v1/knowledge/k1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == 200 || g.upstream.hitCount() != hits {
		t.Errorf("a client's X-Original-Method passed bob's DELETE: %d, upstream hits %d -> %d", resp.StatusCode, hits, g.upstream.hitCount())
	}
}

// TestForwardAuthUntrusted: without trusted_proxies, the endpoint
// refuses to answer, whatever it is asked.
func TestForwardAuthUntrusted(t *testing.T) {
	g := newGateway(t, setup{global: registryGlobal, site: forwardAuthSite})
	g.addUser("alice")
	tok := g.mint("alice", 7, "read")
	resp, body := g.get("/gatehouse/auth", "Authorization: Bearer "+tok, "X-Original-Method: GET", "X-Original-URI: /v1/knowledge/k1")
	if resp.StatusCode != 403 || !strings.Contains(string(body), "trusted_proxies") || resp.Header.Get("Gatehouse-User") != "" {
		t.Errorf("%d %s %v", resp.StatusCode, body, resp.Header)
	}
}
