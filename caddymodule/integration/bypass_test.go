package integration

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// raw sends one request, written byte for byte, to the gateway over a
// socket (curl and net/http normalise too much to send these), and
// returns the status and body.
func (g *gateway) raw(request string) (int, string) {
	g.t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(g.base, "http://"))
	if err != nil {
		g.t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, request); err != nil {
		g.t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		g.t.Fatalf("reading the answer to %q: %v", request, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestRawRequestBypasses sends, through a real Caddy, the requests an
// adversarial review used to pass rules (method case, method overrides,
// Connection naming the identity, namespace trailers, paths that read
// differently upstream), and checks both the answer and what the
// upstream received.
func TestRawRequestBypasses(t *testing.T) {
	g := newGateway(t, setup{})
	g.addUser("ann")
	read := g.mint("ann", 30, "papers:read")
	write := g.mint("ann", 30, "papers:write")
	req := func(method, target, tok string, headers ...string) string {
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n", method, target)
		if tok != "" {
			fmt.Fprintf(&b, "Authorization: Bearer %s\r\n", tok)
		}
		for _, h := range headers {
			b.WriteString(h + "\r\n")
		}
		b.WriteString("\r\n")
		return b.String()
	}

	t.Run("refused before the upstream", func(t *testing.T) {
		for _, tc := range []struct{ name, request string }{
			// Class 1: methods in another case.
			{"delete with a read token", req("delete", "/api/papers/x", read)},
			{"Post with a read token", req("Post", "/api/papers/x", read)},
			{"get on a deny rule", req("get", "/admin/x", read)},
			{"patch", req("pAtCh", "/api/papers/x", read)},
			// Class 2: a _method field.
			{"_method query", req("GET", "/api/papers/x?_method=DELETE", read)},
			// Class 4: an announced namespace trailer.
			{"announced trailer", "POST /api/papers/x HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + write +
				"\r\nTransfer-Encoding: chunked\r\nTrailer: Gatehouse-User\r\n\r\n2\r\nhi\r\n0\r\nGatehouse-User: admin\r\n\r\n"},
			// Class 5: paths.
			{"double encoding", req("GET", "/%2561dmin/x", read)},
			{"trailing dot", req("GET", "/admin./x", read)},
			{"trailing space", req("GET", "/admin%20/x", read)},
			{"NUL", req("GET", "/api/papers/x%00", read)},
			{"tab", req("GET", "/ad%09min/x", read)},
			{"CRLF", req("GET", "/api/papers/x%0d%0aGatehouse-User:%20admin", read)},
			{"overlong slash", req("GET", "/admin%c0%afx", read)},
			{"invalid UTF-8", req("GET", "/api/papers/%ff", read)},
			{"full-width solidus", req("GET", "/admin%EF%BC%8Fx", read)},
			{"raw tab", req("GET", "/admin\t/x", read)},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := g.upstream.hitCount()
				status, body := g.raw(tc.request)
				if status != http.StatusBadRequest {
					t.Errorf("status %d %s, want 400", status, body)
				}
				if g.upstream.hitCount() != before {
					t.Errorf("the upstream received the request")
				}
			})
		}
	})

	t.Run("method override headers are removed", func(t *testing.T) {
		status, body := g.raw(req("GET", "/api/papers/x", read,
			"X-HTTP-Method-Override: DELETE", "x-http-method: DELETE", "X-Method-Override: DELETE", "X_HTTP_METHOD_OVERRIDE: DELETE"))
		if status != 200 {
			t.Fatalf("status %d %s", status, body)
		}
		up := g.upstream.lastRequest()
		if up.Method != "GET" {
			t.Errorf("upstream method %s", up.Method)
		}
		for k := range up.Header {
			if strings.Contains(strings.ToLower(k), "method") {
				t.Errorf("upstream got %s: %s", k, up.Header.Get(k))
			}
		}
	})

	t.Run("Connection cannot drop the identity", func(t *testing.T) {
		status, body := g.raw(req("GET", "/api/papers/x", read,
			"Connection: keep-alive, Gatehouse-User, gatehouse-scopes, GATEHOUSE-USER-ID, Gatehouse-Credential"))
		if status != 200 {
			t.Fatalf("status %d %s", status, body)
		}
		h := g.upstream.lastRequest().Header
		for k, want := range map[string]string{"Gatehouse-User": "ann", "Gatehouse-Scopes": "papers:read", "Gatehouse-Credential": "pat"} {
			if got := h.Get(k); got != want {
				t.Errorf("upstream %s = %q, want %q", k, got, want)
			}
		}
		if h.Get("Gatehouse-User-Id") == "" {
			t.Errorf("upstream lost Gatehouse-User-Id")
		}
	})

	t.Run("namespace trailers never reach the upstream", func(t *testing.T) {
		status, body := g.raw("POST /api/papers/x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: Bearer " + write +
			"\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n2\r\nhi\r\n0\r\nX-Checksum: 1\r\nGatehouse-User: admin\r\nx-gatehouse-scopes: all\r\n\r\n")
		if status != 200 {
			t.Fatalf("status %d %s", status, body)
		}
		g.upstream.mu.Lock()
		trailer, header := g.upstream.lastTrailer, g.upstream.last.Header
		g.upstream.mu.Unlock()
		for k := range trailer {
			if strings.Contains(strings.ToLower(k), "gatehouse") {
				t.Errorf("upstream got trailer %s: %v", k, trailer[k])
			}
		}
		if trailer.Get("X-Checksum") != "1" {
			t.Errorf("the ordinary trailer was lost: %v", trailer)
		}
		if header.Get("Gatehouse-User") != "ann" {
			t.Errorf("upstream Gatehouse-User %q", header.Get("Gatehouse-User"))
		}
	})

	t.Run("the same requests, spelled right, pass", func(t *testing.T) {
		for _, tc := range []struct {
			request string
			status  int
		}{
			{req("GET", "/api/papers/x", read), 200},
			{req("DELETE", "/api/papers/x", read), 403},
			{req("DELETE", "/api/papers/x", write), 200},
			{req("GET", "/admin/x", read), 403},
			{req("GET", "/api/wiki/%C3%A9t%C3%A9", ""), 200},
		} {
			if status, body := g.raw(tc.request); status != tc.status {
				t.Errorf("%q: status %d %s, want %d", tc.request, status, body, tc.status)
			}
		}
	})
}

// TestMethodOverrideAllowed: a site that lets overrides through has its
// rules judge the overridden method.
func TestMethodOverrideAllowed(t *testing.T) {
	g := newGateway(t, setup{site: defaultSite + "\nallow_method_override"})
	g.addUser("bo")
	read := g.mint("bo", 30, "papers:read")
	resp, body := g.do("POST", "/api/papers/x", nil, "Authorization: Bearer "+read, "X-HTTP-Method-Override: DELETE")
	if resp.StatusCode != 403 || !strings.Contains(string(body), "papers:write") {
		t.Errorf("overridden DELETE with a read token: %d %s", resp.StatusCode, body)
	}
	// Overrides count only on POST, as frameworks honour them.
	resp, body = g.get("/api/papers/x", "Authorization: Bearer "+read, "X-HTTP-Method-Override: DELETE")
	if resp.StatusCode != 400 || !strings.Contains(string(body), "only on POST") {
		t.Errorf("override on a GET: %d %s", resp.StatusCode, body)
	}
	write := g.mint("bo", 30, "papers:write")
	resp, body = g.do("POST", "/api/papers/x", nil, "Authorization: Bearer "+read, "X-HTTP-Method-Override: GET")
	if resp.StatusCode != 403 || !strings.Contains(string(body), "papers:write") {
		t.Errorf("a POST overridden to GET must pass the POST rule too: %d %s", resp.StatusCode, body)
	}
	resp, _ = g.do("POST", "/api/papers/x", nil, "Authorization: Bearer "+write, "X-HTTP-Method-Override: DELETE", "Connection: X-HTTP-Method-Override")
	if resp.StatusCode != 200 || g.upstream.lastRequest().Header.Get("X-Http-Method-Override") != "DELETE" {
		t.Errorf("the override reaches the upstream, whatever Connection says: %d", resp.StatusCode)
	}
}

// TestMultipartMethodOverride: a _method part of a multipart form is a
// method override too (Rails, Laravel and Symfony read it).
func TestMultipartMethodOverride(t *testing.T) {
	g := newGateway(t, setup{})
	g.addUser("di")
	write := g.mint("di", 30, "papers:write")
	body := "--b\r\nContent-Disposition: form-data; name=\"_method\"\r\n\r\nDELETE\r\n--b--\r\n"
	before := g.upstream.hitCount()
	for _, ct := range []string{"multipart/form-data; boundary=b", "application/x-www-form-urlencoded; charset"} {
		b := body
		if strings.HasPrefix(ct, "application/") {
			b = "a=1&_method=DELETE"
		}
		resp, out := g.do("POST", "/api/papers/x", strings.NewReader(b), "Authorization: Bearer "+write, "Content-Type: "+ct)
		if resp.StatusCode != 400 || !strings.Contains(string(out), "_method") {
			t.Errorf("%s: %d %s", ct, resp.StatusCode, out)
		}
	}
	if g.upstream.hitCount() != before {
		t.Error("the upstream received an override")
	}
}

// TestHandleErrorsRestylesRefusals: with `handle_errors browsers`, a
// browser's refusal is rendered by the site's handle_errors routes (with
// Gatehouse's challenge and placeholders), while an API client still
// gets the JSON body; Gatehouse's own endpoints answer themselves.
func TestHandleErrorsRestylesRefusals(t *testing.T) {
	g := newGateway(t, setup{
		site: "endpoints\n" + defaultSite + "\nhandle_errors browsers",
		directives: `handle_errors {
		header Content-Type "text/html; charset=utf-8"
		respond "<h1>{err.status_code}: {gatehouse.error}</h1><p>{gatehouse.error_message}</p>"
	}`,
	})
	g.addUser("cy")
	read := g.mint("cy", 30, "papers:read")
	html := "Accept: text/html,application/xhtml+xml"
	for _, tc := range []struct {
		name            string
		path            string
		headers         []string
		status          int
		body, challenge string
	}{
		{"browser without a credential", "/api/papers/1", []string{html}, 401, "<h1>401: unauthorized</h1>", `Bearer realm="gatehouse"`},
		{"browser lacking a scope", "/api/papers/1", []string{html, "Authorization: Bearer " + read}, 200, "", ""},
		{"browser on a deny rule", "/admin/x", []string{html, "Authorization: Bearer " + read}, 403, "<h1>403: forbidden</h1><p>access to this route is denied</p>", ""},
		{"API client", "/api/papers/1", []string{"Accept: application/json"}, 401, `{"error":"unauthorized"`, `Bearer realm="gatehouse"`},
		{"endpoint", "/api/whoami", []string{html}, 401, `{"error":"unauthorized"`, `Bearer realm="gatehouse"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := g.get(tc.path, tc.headers...)
			if resp.StatusCode != tc.status || !strings.HasPrefix(string(body), tc.body) {
				t.Errorf("%d %s, want %d %s", resp.StatusCode, body, tc.status, tc.body)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != tc.challenge {
				t.Errorf("challenge %q, want %q", got, tc.challenge)
			}
		})
	}
	resp, body := g.do("DELETE", "/api/papers/1", nil, html, "Authorization: Bearer "+read)
	if resp.StatusCode != 403 || !strings.Contains(string(body), "insufficient_scope") || resp.Header.Get("Gatehouse-Accepted-Scopes") != "papers:write" {
		t.Errorf("browser lacking a scope: %d %s %v", resp.StatusCode, body, resp.Header)
	}
}
