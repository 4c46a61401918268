package integration

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/internal/clock"
)

// refresh posts a refresh token and returns status and body.
func (g *gateway) refresh(tok string) (int, string) {
	g.t.Helper()
	resp, raw := g.do("POST", "/api/refresh", strings.NewReader(`{"refresh_token":"`+tok+`"}`), "Content-Type: application/json")
	return resp.StatusCode, string(raw)
}

// TestCLISessionAndRefresh checks the CLI login, the access token, refresh
// rotation, the grace window for concurrent refreshes and bad requests.
func TestCLISessionAndRefresh(t *testing.T) {
	g := newSessionGateway(t, "access_ttl 10m")
	g.addUserWithPassword("alice", "alice password 1")

	// Form bodies work as well as JSON.
	resp, raw := g.do("POST", "/api/session", strings.NewReader("login=alice&password=alice+password+1"), "Content-Type: application/x-www-form-urlencoded")
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("CLI login: %d %s", resp.StatusCode, raw)
	}
	s0 := decodeInto[api.CLITokens](t, string(raw))
	if s0.TokenType != "Bearer" || s0.ExpiresIn < 590 || s0.ExpiresIn > 600 || !strings.HasPrefix(s0.RefreshToken, "ghr_") ||
		!strings.HasPrefix(s0.SessionID, "ses_") || s0.RefreshExpiresIn < 29*24*3600 || strings.Count(s0.AccessToken, ".") != 2 {
		t.Fatalf("CLI tokens: %s", raw)
	}
	_, raw = g.get("/api/whoami", "Authorization: Bearer "+s0.AccessToken)
	if who := decodeInto[api.Whoami](t, string(raw)); who.Credential != "session" || who.SessionID != s0.SessionID {
		t.Errorf("whoami with the access token: %s", raw)
	}
	resp, raw = g.get("/api/pat", "Authorization: Bearer "+s0.AccessToken)
	if resp.StatusCode != 403 || !strings.Contains(string(raw), "this endpoint requires a browser session token") {
		t.Errorf("a CLI access token reached PAT management: %d %s", resp.StatusCode, raw)
	}

	// Rotation: a new refresh token each time, same session.
	code, body := g.refresh(s0.RefreshToken)
	if code != 200 {
		t.Fatalf("refresh: %d %s", code, body)
	}
	s1 := decodeInto[api.CLITokens](t, body)
	if s1.RefreshToken == s0.RefreshToken || s1.SessionID != s0.SessionID || s1.AccessToken == "" {
		t.Fatalf("rotation: %s", body)
	}
	if resp, _ := g.get("/api/papers/1", "Authorization: Bearer "+s1.AccessToken); resp.StatusCode != 200 {
		t.Errorf("new access token: %d", resp.StatusCode)
	}

	// Inside the grace window the old token gets the very same answer.
	code, again := g.refresh(s0.RefreshToken)
	if code != 200 || decodeInto[api.CLITokens](t, again).RefreshToken != s1.RefreshToken ||
		decodeInto[api.CLITokens](t, again).AccessToken != s1.AccessToken {
		t.Fatalf("second refresh inside the grace window: %d %s", code, again)
	}

	// Two processes refreshing one token at once both succeed alike.
	const n = 4
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		answers = map[string]int{}
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Post(g.base+"/api/refresh", "application/json", strings.NewReader(`{"refresh_token":"`+s1.RefreshToken+`"}`))
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			mu.Lock()
			answers[resp.Status+" "+extractRefresh(string(b))]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(answers) != 1 {
		t.Fatalf("concurrent refreshes disagree: %v", answers)
	}
	for a := range answers {
		if !strings.HasPrefix(a, "200 ") {
			t.Fatalf("concurrent refresh: %s", a)
		}
	}

	// Bad requests change nothing.
	for _, bad := range []struct {
		body, ct string
		status   int
		errCode  string
	}{
		{`{"refresh_token":"` + s0.RefreshToken + `","grant_type":"password"}`, "application/json", 400, "unsupported_grant_type"},
		{`{}`, "application/json", 400, "invalid_request"},
		{`{"refresh_token":`, "application/json", 400, "invalid_request"},
		{`{"refresh_token":["x"]}`, "application/json", 400, "invalid_request"},
		{`refresh_token=ghr_nope`, "application/x-www-form-urlencoded", 400, "invalid_grant"},
		{`refresh_token=` + forgeValid("ghr_"), "application/x-www-form-urlencoded", 400, "invalid_grant"},
		{`x`, "text/plain", 400, "invalid_request"},
	} {
		resp, raw := g.do("POST", "/api/refresh", strings.NewReader(bad.body), "Content-Type: "+bad.ct)
		if resp.StatusCode != bad.status || !strings.Contains(string(raw), `"error":"`+bad.errCode+`"`) {
			t.Errorf("refresh %q: %d %s", bad.body, resp.StatusCode, raw)
		}
	}
	if resp, _ := g.get("/api/refresh"); resp.StatusCode != 405 {
		t.Errorf("GET /api/refresh: %d", resp.StatusCode)
	}
	// The session survived all that.
	if resp, _ := g.get("/api/whoami", "Authorization: Bearer "+s1.AccessToken); resp.StatusCode != 200 {
		t.Errorf("session after bad requests: %d", resp.StatusCode)
	}
	g.assertNotLogged("alice password 1", s0.AccessToken, s0.RefreshToken, s1.AccessToken, s1.RefreshToken)
}

func extractRefresh(body string) string {
	_, rest, ok := strings.Cut(body, `"refresh_token":"`)
	if !ok {
		return body
	}
	tok, _, _ := strings.Cut(rest, `"`)
	return tok
}

// TestSessionTimers covers what takes time: sliding renewal of the
// browser cookie at half its life, and refresh-token reuse after the
// grace window, which ends the whole CLI session. The clock is stopped
// and moved on, so it waits for nothing and no slow machine can fail it.
func TestSessionTimers(t *testing.T) {
	g := newSessionGateway(t, "session_ttl 1m")
	g.addUserWithPassword("alice", "alice password 1")
	// The store, the cookies and the backoff read the stopped clock, which
	// the test moves on instead of sleeping.
	t.Cleanup(clock.Stop(time.Now()))
	c := g.cookieClient()
	first := c.mustLogin("alice", "alice password 1")
	cli := g.cliLogin("alice", "alice password 1")
	code, body := g.refresh(cli.RefreshToken)
	if code != 200 {
		t.Fatalf("refresh: %d %s", code, body)
	}
	next := decodeInto[api.CLITokens](t, body)

	// A fresh cookie is not renewed.
	resp, _ := c.do("GET", "/api/papers/1", nil)
	if resp.StatusCode != 200 || sessionCookie(resp) != nil {
		t.Fatalf("fresh cookie: %d, Set-Cookie %q", resp.StatusCode, resp.Header.Get("Set-Cookie"))
	}

	// Past half of the cookie's 30 s life, a request renews it.
	clock.Advance(16 * time.Second)
	resp, _ = c.do("GET", "/api/papers/1", nil)
	ck := sessionCookie(resp)
	if resp.StatusCode != 200 || ck == nil || ck.Value == first || ck.MaxAge < 25 || ck.MaxAge > 30 || !ck.HttpOnly {
		t.Fatalf("renewal: %d, cookie %+v", resp.StatusCode, ck)
	}
	if resp, _ := c.do("GET", "/api/whoami", nil); resp.StatusCode != 200 {
		t.Fatalf("renewed cookie: %d", resp.StatusCode)
	}
	if resp, _ := g.get("/api/whoami", "Authorization: Bearer "+first); resp.StatusCode != 200 {
		t.Errorf("the pre-renewal JWT of the same session: %d", resp.StatusCode)
	}

	// After the grace window, the first refresh token used again ends
	// the CLI session: its successor and access token stop working.
	clock.Advance(15 * time.Second)
	code, body = g.refresh(cli.RefreshToken)
	if code != 400 || !strings.Contains(body, "invalid_grant") || !strings.Contains(body, "already used") {
		t.Fatalf("reuse after grace: %d %s", code, body)
	}
	if code, body := g.refresh(next.RefreshToken); code != 400 || !strings.Contains(body, "revoked") {
		t.Errorf("successor after reuse: %d %s", code, body)
	}
	if resp, _ := g.get("/api/whoami", "Authorization: Bearer "+next.AccessToken); resp.StatusCode != 401 {
		t.Errorf("access token after reuse: %d", resp.StatusCode)
	}
	if resp, _ := c.do("GET", "/api/whoami", nil); resp.StatusCode != 200 {
		t.Errorf("the browser session should be untouched by the CLI family's revocation: %d", resp.StatusCode)
	}
	g.assertNotLogged("alice password 1", first, ck.Value, cli.AccessToken, cli.RefreshToken, next.AccessToken, next.RefreshToken)
}
