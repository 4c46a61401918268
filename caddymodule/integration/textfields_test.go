package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// badTokenNames are token names that are not plain text, or are empty or
// too long once trimmed: every way of naming a token refuses them.
var badTokenNames = map[string]string{
	"NUL":           "\x00",
	"ANSI escape":   "\x1b[31m",
	"right-to-left": "a\u202eb",
	"invalid UTF-8": "\xff",
	"CR LF":         "\r\n",
	"CR LF inside":  "a\r\nb",
	"only spaces":   "   ",
	"too long":      strings.Repeat("n", 101),
}

// jsonName is name as a JSON string, byte for byte: a name that is not
// UTF-8 is sent raw, as a client could, where json.Marshal would have
// replaced the bad bytes.
func jsonName(name string) string {
	if !utf8.ValidString(name) {
		return `"` + name + `"`
	}
	b, _ := json.Marshal(name)
	return string(b)
}

// TestPATAPIRefusesBadNames: POST /api/pat and the admin API answer a bad
// token name with 400 invalid_request saying what is wrong, and store
// nothing.
func TestPATAPIRefusesBadNames(t *testing.T) {
	g := newSessionGateway(t, "")
	g.addUserWithPassword("alice", "alice password 1")
	c := g.cookieClient()
	c.mustLogin("alice", "alice password 1")
	adminURL := fmt.Sprintf("http://localhost:%d/gatehouse/tokens", adminPort)
	for name, bad := range badTokenNames {
		t.Run(name, func(t *testing.T) {
			want := "token name must"
			if !utf8.ValidString(bad) {
				want = "must be valid UTF-8"
			}
			body := `{"name":` + jsonName(bad) + `,"scopes":["papers:read"],"expires_days":7}`
			req, _ := http.NewRequest("POST", g.base+"/api/pat", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := c.c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 400 || !strings.Contains(string(raw), `"error":"invalid_request"`) || !strings.Contains(string(raw), want) {
				t.Errorf("/api/pat: %d %s", resp.StatusCode, raw)
			}

			body = `{"user":"alice","name":` + jsonName(bad) + `,"scopes":["papers:read"],"expires_days":7}`
			resp, err = http.Post(adminURL, "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			raw, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 400 || !strings.Contains(string(raw), want) {
				t.Errorf("admin API: %d %s", resp.StatusCode, raw)
			}
		})
	}
	var tokens []any
	g.admin("GET", "/gatehouse/tokens?user=alice", nil, &tokens)
	if len(tokens) != 0 {
		t.Errorf("refused requests stored %d tokens", len(tokens))
	}
	// A good name with spaces around is stored trimmed.
	resp, body := c.do("POST", "/api/pat", map[string]any{"name": "  笔记本 laptop  ", "scopes": []string{"papers:read"}, "expires_days": 7})
	if resp.StatusCode != 201 || decodeInto[patCreated](t, body).Info.Name != "笔记本 laptop" {
		t.Errorf("a good name: %d %s", resp.StatusCode, body)
	}
}

// TestDeviceRefusesBadTokenNames: a client's pre-filled token_name that is
// not a valid name is refused with 400 invalid_request and no device code;
// a bad name posted on the approval page is a 400 page that leaves the
// request pending and mints nothing.
func TestDeviceRefusesBadTokenNames(t *testing.T) {
	g := newSessionGateway(t, deviceGlobal)
	g.addUserWithPassword("alice", "alice password 1")
	for name, bad := range badTokenNames {
		t.Run("pre-filled "+name, func(t *testing.T) {
			code, body := g.postForm("/api/oauth/device/code", url.Values{"client_id": {"gatehouse-cli"}, "token_name": {bad}})
			if msg, _ := body["error_description"].(string); code != 400 || body["error"] != "invalid_request" || body["device_code"] != nil || !strings.HasPrefix(msg, "token name must") {
				t.Errorf("%d %v", code, body)
			}
		})
	}
	dev, _ := startDeviceLogin(t, g)
	browser := g.cookieClient()
	browser.mustLogin("alice", "alice password 1")
	for name, bad := range badTokenNames {
		t.Run("approved "+name, func(t *testing.T) {
			resp, page := browser.do("POST", "/device", url.Values{
				"user_code": {dev.UserCode}, "action": {"approve"}, "token_name": {bad}, "expires_days": {"7"}, "scope": {"papers:read"},
			})
			if resp.StatusCode != 400 || !strings.Contains(page, "without control or formatting characters") {
				t.Errorf("%d %s", resp.StatusCode, between(page, `id="error"`, "</p>"))
			}
			for _, raw := range []string{"\x00", "\x1b", "\u202e", "\xff", "\r"} {
				if strings.Contains(bad, raw) && strings.Contains(page, raw) {
					t.Errorf("the page shows the name raw (%q)", raw)
				}
			}
		})
	}
	if resp, page := browser.do("GET", "/device?user_code="+url.QueryEscape(dev.UserCode), nil); resp.StatusCode != 200 || !strings.Contains(page, `id="approve"`) {
		t.Errorf("the request is no longer pending: %d", resp.StatusCode)
	}
	var tokens []any
	g.admin("GET", "/gatehouse/tokens?user=alice", nil, &tokens)
	if len(tokens) != 0 {
		t.Errorf("refused approvals minted %d tokens", len(tokens))
	}
}

// TestStoredUserAgentsArePlain: a User-Agent with a tab, a right-to-left
// override and bytes that are not UTF-8 (what HTTP lets through) is shown
// sanitised on the device page and in the session listing.
func TestStoredUserAgentsArePlain(t *testing.T) {
	g := newSessionGateway(t, deviceGlobal)
	g.addUserWithPassword("alice", "alice password 1")
	const ua = "evil\tagent \u202egpj.exe \xff\xfe end"
	const want = "evil\ufffdagent \ufffdgpj.exe \ufffd end"

	resp, raw := g.do("POST", "/api/oauth/device/code", strings.NewReader("client_id=gatehouse-cli"),
		"Content-Type: application/x-www-form-urlencoded", "User-Agent: "+ua)
	if resp.StatusCode != 200 {
		t.Fatalf("device code: %d %s", resp.StatusCode, raw)
	}
	dev := decodeInto[map[string]any](t, string(raw))
	browser := g.cookieClient()
	browser.mustLogin("alice", "alice password 1")
	_, page := browser.do("GET", "/device?user_code="+url.QueryEscape(dev["user_code"].(string)), nil)
	if agent := between(page, `id="agent">`, "</td>"); agent != want {
		t.Errorf("device page shows the agent as %q, want %q", agent, want)
	}

	req, _ := http.NewRequest("POST", g.base+"/login", strings.NewReader(url.Values{"login": {"alice"}, "password": {"alice password 1"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", ua)
	client := g.cookieClient().c
	if resp, err := client.Do(req); err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %v %v", err, resp)
	} else {
		resp.Body.Close()
	}
	var sessions []struct {
		UserAgent string `json:"user_agent"`
	}
	g.admin("GET", "/gatehouse/sessions?user=alice", nil, &sessions)
	found := false
	for _, s := range sessions {
		found = found || s.UserAgent == want
		if strings.ContainsAny(s.UserAgent, "\t\u202e") {
			t.Errorf("a session keeps the agent raw: %q", s.UserAgent)
		}
	}
	if !found {
		t.Errorf("no session with the sanitised agent: %+v", sessions)
	}
}
