package integration

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
)

// sessionSite serves Gatehouse's endpoints and adds a browser-only route
// to the default rules.
const sessionSite = "endpoints\nrule GET /browser/* session\n" + defaultSite

// newSessionGateway starts a gateway with endpoints; globalExtra lines are
// added to the default global block.
func newSessionGateway(t *testing.T, globalExtra string) *gateway {
	t.Helper()
	g := newGateway(t, setup{global: defaultGlobal + "\n" + globalExtra, site: sessionSite})
	g.dumpLogOnFailure()
	return g
}

// dumpLogOnFailure shows Caddy's warnings and errors when the test fails.
func (g *gateway) dumpLogOnFailure() {
	g.t.Cleanup(func() {
		if !g.t.Failed() {
			return
		}
		for _, line := range g.logLines() {
			if strings.Contains(line, `"level":"error"`) || strings.Contains(line, `"level":"warn"`) {
				g.t.Log(line)
			}
		}
	})
}

// setPassword sets a user's password through the admin API, hashing it
// here as `caddy gatehouse user passwd` does.
func (g *gateway) setPassword(login, pw string) {
	g.t.Helper()
	hash, err := authstore.HashPassword(pw)
	if err != nil {
		g.t.Fatal(err)
	}
	if code := g.admin("POST", "/gatehouse/users/"+login+"/password", map[string]string{"password_hash": hash}, nil); code != http.StatusOK {
		g.t.Fatalf("setting the password of %s: HTTP %d", login, code)
	}
}

// addUserWithPassword creates a user who can log in.
func (g *gateway) addUserWithPassword(login, pw string, extra ...string) {
	g.t.Helper()
	g.addUser(login, extra...)
	g.setPassword(login, pw)
}

// cookieClient is a browser-like HTTP client: it keeps cookies and does
// not follow redirects, so tests see every 303 and Set-Cookie.
type cookieClient struct {
	g *gateway
	c *http.Client
}

func (g *gateway) cookieClient() *cookieClient {
	jar, _ := cookiejar.New(nil)
	return &cookieClient{g: g, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// do sends a request; a url.Values body is sent as a form, any other
// non-nil body as JSON. headers are "Name: value" strings.
func (c *cookieClient) do(method, path string, body any, headers ...string) (*http.Response, string) {
	c.g.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		rd, ct = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		raw, _ := json.Marshal(b)
		rd, ct = bytes.NewReader(raw), "application/json"
	}
	req, err := http.NewRequest(method, c.g.base+path, rd)
	if err != nil {
		c.g.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.g.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp, string(raw)
}

// login posts the login form and returns the answer.
func (c *cookieClient) login(login, pw string, extra ...string) (*http.Response, string) {
	c.g.t.Helper()
	form := url.Values{"login": {login}, "password": {pw}}
	for i := 0; i+1 < len(extra); i += 2 {
		form.Set(extra[i], extra[i+1])
	}
	return c.do("POST", "/login", form, "Accept: text/html")
}

// mustLogin logs in and returns the session JWT from the cookie.
func (c *cookieClient) mustLogin(login, pw string) string {
	c.g.t.Helper()
	resp, body := c.login(login, pw)
	if resp.StatusCode != http.StatusSeeOther {
		c.g.t.Fatalf("login of %s: HTTP %d %s", login, resp.StatusCode, body)
	}
	jwt := c.sessionJWT()
	if jwt == "" {
		c.g.t.Fatal("login set no session cookie")
	}
	return jwt
}

// sessionJWT is the session cookie's value in the jar.
func (c *cookieClient) sessionJWT() string {
	u, _ := url.Parse(c.g.base)
	for _, ck := range c.c.Jar.Cookies(u) {
		if ck.Name == "gatehouse_session" {
			return ck.Value
		}
	}
	return ""
}

// sessionCookie finds the session cookie a response set.
func sessionCookie(resp *http.Response) *http.Cookie {
	for _, ck := range resp.Cookies() {
		if ck.Name == "gatehouse_session" || ck.Name == "__Host-gatehouse_session" {
			return ck
		}
	}
	return nil
}

func decodeInto[T any](t *testing.T, body string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("decoding %q: %v", body, err)
	}
	return v
}

// auditActions lists the actions of a user's audit events, newest first.
func (g *gateway) auditActions(login string) []string {
	g.t.Helper()
	var events []api.AuditEvent
	g.admin("GET", "/gatehouse/audit?user="+login, nil, &events)
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Action
	}
	return out
}

func countOf(list []string, s string) int {
	n := 0
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}
