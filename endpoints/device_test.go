package endpoints

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/internal/clock"
)

// startDevice asks for a device code as client clientID with the extra
// form fields, failing unless it is issued.
func (s *testSite) startDevice(t *testing.T, clientID string, extra url.Values) api.DeviceCodeResponse {
	t.Helper()
	form := url.Values{"client_id": {clientID}}
	for k, v := range extra {
		form[k] = v
	}
	return decodeAs[api.DeviceCodeResponse](t, s.mustServe(t, 200, postForm("/api/oauth/device/code", form)))
}

// poll polls the token endpoint for deviceCode as clientID.
func (s *testSite) poll(clientID, deviceCode string) *http.Request {
	return postForm("/api/oauth/device/token", url.Values{"grant_type": {api.DeviceGrantType}, "client_id": {clientID}, "device_code": {deviceCode}})
}

// wantOAuth fails unless the answer to r is an RFC 6749 §5.2 error answer.
func wantOAuth(t *testing.T, s *testSite, r *http.Request, code, msg string) {
	t.Helper()
	w := s.serve(r)
	e := wantError(t, w, http.StatusBadRequest, code, msg)
	if e.Description != e.Message {
		t.Errorf("error_description %q, want the message %q", e.Description, e.Message)
	}
}

var userCodeRE = regexp.MustCompile(`^[A-Z]{4}-[A-Z]{4}$`)

func TestDeviceCode(t *testing.T) {
	t.Parallel()
	s := defaultTestSite(t)
	m := s.withMetrics()
	code := "/api/oauth/device/code"
	for _, tc := range []struct {
		name string
		r    *http.Request
		want string // the OAuth error code
		msg  string
	}{
		{"JSON body", postJSON(code, `{"client_id":"cli"}`), "invalid_request", "application/x-www-form-urlencoded"},
		{"no body", newRequest("POST", code, "", ""), "invalid_request", "application/x-www-form-urlencoded"},
		{"malformed form", newRequest("POST", code, "application/x-www-form-urlencoded", "client_id=%zz"), "invalid_request", "malformed"},
		{"no client_id", postForm(code, url.Values{"scope": {"wiki:read"}}), "invalid_request", "client_id is required"},
		{"client_id with a space", postForm(code, url.Values{"client_id": {"my cli"}}), "invalid_request", "printable ASCII"},
		{"client_id too long", postForm(code, url.Values{"client_id": {strings.Repeat("c", 101)}}), "invalid_request", "at most 100"},
		{"unknown scope", postForm(code, url.Values{"client_id": {"cli"}, "scope": {"wiki:read nope:x"}}), "invalid_scope", "nope:x"},
		{"bad token_name", postForm(code, url.Values{"client_id": {"cli"}, "token_name": {"a\x1bb"}}), "invalid_request", "token name"},
		{"expires_days 0", postForm(code, url.Values{"client_id": {"cli"}, "expires_days": {"0"}}), "invalid_request", "expires_days: must be 1 to 365"},
		{"expires_days too many", postForm(code, url.Values{"client_id": {"cli"}, "expires_days": {"366"}}), "invalid_request", "expires_days"},
		{"expires_days not a number", postForm(code, url.Values{"client_id": {"cli"}, "expires_days": {"ten"}}), "invalid_request", "expires_days"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantOAuth(t, s, tc.r, tc.want, tc.msg)
		})
	}
	if m.events() != "" {
		t.Errorf("refused requests counted device events %q", m.events())
	}

	got := s.startDevice(t, "my-cli", url.Values{"scope": {"wiki:read papers:read"}, "token_name": {"laptop"}, "expires_days": {"30"}})
	if !userCodeRE.MatchString(got.UserCode) || len(got.DeviceCode) < 40 ||
		got.VerificationURI != "http://example.com/device" ||
		got.VerificationURIComplete != "http://example.com/device?user_code="+got.UserCode ||
		got.ExpiresIn != 600 || got.Interval != 5 {
		t.Errorf("device code answer %+v", got)
	}
	g, err := s.store.DeviceGrantByUserCode(got.UserCode)
	if err != nil {
		t.Fatal(err)
	}
	if g.ClientID != "my-cli" || strings.Join(g.Scopes, " ") != "wiki:read papers:read" || g.TokenName != "laptop" ||
		g.ExpiresDays != 30 || g.IP != testIP || g.Status != authstore.DevicePending {
		t.Errorf("stored grant %+v", g)
	}
	if m.events() != "issued" {
		t.Errorf("device events %q, want issued", m.events())
	}

	// A client that authenticates with HTTP Basic names itself there
	// (RFC 6749 §2.3.1: form-encoded first).
	r := postForm(code, url.Values{})
	r.SetBasicAuth(url.QueryEscape("basic cli"), "")
	wantOAuth(t, s, r, "invalid_request", "printable ASCII") // "basic cli" has a space
	r = postForm(code, url.Values{})
	r.SetBasicAuth("basic-cli", "secret")
	basic := decodeAs[api.DeviceCodeResponse](t, s.mustServe(t, 200, r))
	if g, _ := s.store.DeviceGrantByUserCode(basic.UserCode); g == nil || g.ClientID != "basic-cli" {
		t.Errorf("the Basic client's grant: %+v", g)
	}
	// client_id in the form wins over Basic.
	r = postForm(code, url.Values{"client_id": {"form-cli"}})
	r.SetBasicAuth("basic-cli", "")
	both := decodeAs[api.DeviceCodeResponse](t, s.mustServe(t, 200, r))
	if g, _ := s.store.DeviceGrantByUserCode(both.UserCode); g == nil || g.ClientID != "form-cli" {
		t.Errorf("the grant with both: %+v", g)
	}
}

// TestDeviceTokenRefusals: the token endpoint's RFC 8628 refusals of a
// malformed poll or an unknown device code.
func TestDeviceTokenRefusals(t *testing.T) {
	t.Parallel()
	s := defaultTestSite(t)
	dc := s.startDevice(t, "cli", nil)
	token := "/api/oauth/device/token"
	form := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	gt := api.DeviceGrantType
	for _, tc := range []struct {
		name string
		r    *http.Request
		want string
		msg  string
	}{
		{"JSON body", postJSON(token, `{"grant_type":"`+gt+`"}`), "invalid_request", "x-www-form-urlencoded"},
		{"no grant_type", postForm(token, form("client_id", "cli", "device_code", dc.DeviceCode)), "invalid_request", "grant_type is required"},
		{"another grant_type", postForm(token, form("grant_type", "password", "client_id", "cli", "device_code", dc.DeviceCode)), "unsupported_grant_type", gt},
		{"no client_id", postForm(token, form("grant_type", gt, "device_code", dc.DeviceCode)), "invalid_request", "client_id is required"},
		{"no device_code", postForm(token, form("grant_type", gt, "client_id", "cli")), "invalid_request", "device_code is required"},
		{"device_code too long", postForm(token, form("grant_type", gt, "client_id", "cli", "device_code", strings.Repeat("d", 129))), "invalid_request", "device_code is required"},
		{"unknown device_code", postForm(token, form("grant_type", gt, "client_id", "cli", "device_code", "nope")), "invalid_grant", "unknown device code"},
		{"another client's code", postForm(token, form("grant_type", gt, "client_id", "other", "device_code", dc.DeviceCode)), "invalid_grant", "unknown device code"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantOAuth(t, s, tc.r, tc.want, tc.msg)
		})
	}
	// The client may name itself with HTTP Basic when polling too.
	r := postForm(token, form("grant_type", gt, "device_code", dc.DeviceCode))
	r.SetBasicAuth("cli", "")
	wantOAuth(t, s, r, "authorization_pending", "not yet approved")
}

// TestDeviceFlow drives whole device grants on a stopped clock: polls
// before approval (authorization_pending, slow_down), approval and the
// token, denial, expiry, and the wrong-code throttle of the page.
func TestDeviceFlow(t *testing.T) {
	t.Cleanup(clock.Stop(time.Now()))
	s := defaultTestSite(t)
	m := s.withMetrics()
	alice := s.user(t, "alice", testPassword, []string{"wiki:read", "papers:read"})
	c := s.signIn(t, "alice")
	page := func(form url.Values) *http.Request { return withCookie(postForm("/device", form), c) }

	t.Run("approved", func(t *testing.T) {
		dc := s.startDevice(t, "cli", url.Values{"scope": {"wiki:read"}})
		wantOAuth(t, s, s.poll("cli", dc.DeviceCode), "authorization_pending", "not yet approved")
		wantOAuth(t, s, s.poll("cli", dc.DeviceCode), "slow_down", "wait 10 seconds")
		clock.Advance(10 * time.Second)
		wantOAuth(t, s, s.poll("cli", dc.DeviceCode), "authorization_pending", "")

		wantPage(t, s.serve(page(url.Values{"user_code": {dc.UserCode}, "action": {"approve"},
			"token_name": {"my laptop"}, "expires_days": {"7"}, "scope": {"wiki:read"}})), 200,
			"Device connected. You can return to your terminal.")
		clock.Advance(10 * time.Second)
		// expires_in is the token's life from now, on the clock its
		// expiry was set by: approved 10s ago.
		w := s.mustServe(t, 200, s.poll("cli", dc.DeviceCode))
		got := decodeAs[api.DeviceTokenResponse](t, w)
		if !strings.HasPrefix(got.AccessToken, "qat_") || got.TokenType != "Bearer" || got.Scope != "wiki:read" || got.ExpiresIn != 7*24*3600-10 {
			t.Errorf("device token %+v", got)
		}
		me := decodeAs[api.Whoami](t, s.mustServe(t, 200, withBearer(newRequest("GET", "/api/whoami", "", ""), got.AccessToken)))
		if me.Login != "alice" || me.Credential != "pat" || me.TokenName != "my laptop" || strings.Join(me.Scopes, " ") != "wiki:read" {
			t.Errorf("whoami with the device token: %+v", me)
		}
		pats, _ := s.store.PATs(alice.ID)
		if len(pats) != 1 || pats[0].CreatedVia != authstore.ViaDevice {
			t.Errorf("alice's tokens: %+v", pats)
		}
		clock.Advance(10 * time.Second)
		wantOAuth(t, s, s.poll("cli", dc.DeviceCode), "invalid_grant", "already used")
		// The page knows it is used.
		wantPage(t, s.serve(withCookie(newRequest("GET", "/device?user_code="+dc.UserCode, "", ""), c)), 409, "That code was already used.")
		wantPage(t, s.serve(page(url.Values{"user_code": {dc.UserCode}, "action": {"deny"}})), 409, "That code was already used.")
	})

	t.Run("denied", func(t *testing.T) {
		dc := s.startDevice(t, "cli", nil)
		wantPage(t, s.serve(page(url.Values{"user_code": {strings.ToLower(strings.ReplaceAll(dc.UserCode, "-", ""))}, "action": {"deny"}})), 200,
			"Request denied.")
		wantOAuth(t, s, s.poll("cli", dc.DeviceCode), "access_denied", "denied")
		if g, _ := s.store.DeviceGrantByUserCode(dc.UserCode); g.Status != authstore.DeviceDenied {
			t.Errorf("grant status %q", g.Status)
		}
	})

	t.Run("expired", func(t *testing.T) {
		dc := s.startDevice(t, "cli", nil)
		clock.Advance(10*time.Minute + time.Second)
		wantPage(t, s.serve(withCookie(newRequest("GET", "/device?user_code="+dc.UserCode, "", ""), c)), 410, "That code has expired.")
		wantOAuth(t, s, s.poll("cli", dc.DeviceCode), "expired_token", "expired")
	})

	t.Run("approved too late", func(t *testing.T) {
		dc := s.startDevice(t, "cli", nil)
		wantPage(t, s.serve(page(url.Values{"user_code": {dc.UserCode}, "action": {"approve"},
			"token_name": {"late"}, "expires_days": {"7"}, "scope": {"wiki:read"}})), 200, "Device connected.")
		clock.Advance(10*time.Minute + time.Second)
		wantOAuth(t, s, s.poll("cli", dc.DeviceCode), "expired_token", "")
	})

	t.Run("approved, then the user is disabled", func(t *testing.T) {
		s.user(t, "dave", testPassword, nil)
		dave := s.signIn(t, "dave")
		dc := s.startDevice(t, "cli", nil)
		wantPage(t, s.serve(withCookie(postForm("/device", url.Values{"user_code": {dc.UserCode}, "action": {"approve"},
			"token_name": {"x"}, "expires_days": {"7"}, "scope": {"wiki:read"}}), dave)), 200, "Device connected.")
		if _, err := s.svc().SetDisabled("dave", true, authstore.AdminActor); err != nil {
			t.Fatal(err)
		}
		wantOAuth(t, s, s.poll("cli", dc.DeviceCode), "access_denied", "")
	})

	if got, want := m.events(), "issued approved token_issued issued denied denied_polled issued expired issued approved expired issued approved denied_polled"; got != want {
		t.Errorf("device events\n%q, want\n%q", got, want)
	}

	t.Run("wrong codes are throttled", func(t *testing.T) {
		dc := s.startDevice(t, "cli", nil)
		get := func(code string) *http.Request {
			return withCookie(newRequest("GET", "/device?user_code="+url.QueryEscape(code), "", ""), c)
		}
		for range 5 {
			wantPage(t, s.serve(get("ZZZZ-ZZZZ")), 404, "That code is not valid.")
		}
		// The session has spent its free guesses: even the right code waits.
		wantPage(t, s.serve(get("ZZZZ-ZZZZ")), 429, "Too many wrong codes. Try again in")
		wantPage(t, s.serve(get(dc.UserCode)), 429, "Too many wrong codes.")
		wantPage(t, s.serve(page(url.Values{"user_code": {dc.UserCode}, "action": {"deny"}})), 429, "Too many wrong codes.")
		if g, _ := s.store.DeviceGrantByUserCode(dc.UserCode); g.Status != authstore.DevicePending {
			t.Errorf("a throttled denial decided the grant: %q", g.Status)
		}
		clock.Advance(time.Hour)
		wantPage(t, s.serve(get(dc.UserCode)), 410, "That code has expired.") // found, not throttled
	})
}

// TestDevicePage: the approval page's answers to a caller who may not
// approve, and its form's refusals; then an approval.
func TestDevicePage(t *testing.T) {
	t.Parallel()
	s := defaultTestSite(t)
	alice := s.user(t, "alice", testPassword, []string{"wiki:read", "papers:read"})
	c := s.signIn(t, "alice")
	tok, _ := s.pat(t, alice, "wiki:read")
	dc := s.startDevice(t, "my-cli", url.Values{"scope": {"wiki:read papers:write"}})
	get := func(q string) *http.Request { return newRequest("GET", "/device"+q, "", "") }
	post := func(form url.Values) *http.Request {
		form.Set("user_code", dc.UserCode)
		return withCookie(postForm("/device", form), c)
	}

	// Who may not approve.
	wantRedirect(t, s.serve(get("?user_code="+dc.UserCode)), "/login?next=%2Fdevice%3Fuser_code%3D"+url.QueryEscape(dc.UserCode))
	wantError(t, s.serve(postForm("/device", url.Values{"user_code": {dc.UserCode}, "action": {"approve"}})), 401, "unauthorized", "")
	wantError(t, s.serve(withBearer(get("?user_code="+dc.UserCode), tok)), 403, "forbidden", "browser session")
	wantError(t, s.serve(crossSite(post(url.Values{"action": {"deny"}}))), 403, "forbidden", "cross-origin")

	// The code entry and the request.
	wantPage(t, s.serve(withCookie(get(""), c)), 200, "Enter the code shown by the application", `id="code-form"`)
	wantPage(t, s.serve(withCookie(get("?user_code=BCDF-GHJK"), c)), 404, "That code is not valid.", `value="BCDF-GHJK"`)
	wantPage(t, s.serve(withCookie(get("?user_code="+dc.UserCode), c)), 200,
		"Authorize my-cli?", testIP, dc.UserCode, "Also requested, but you do not hold (it will not be granted): papers:write",
		`value="my-cli-192.0.2.10-`) // the default token name

	// The form's refusals leave the grant pending.
	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		shows  string
	}{
		{"no action", url.Values{}, 400, "Choose Approve or Deny."},
		{"unknown action", url.Values{"action": {"maybe"}}, 400, "Choose Approve or Deny."},
		{"no scope", url.Values{"action": {"approve"}, "token_name": {"t"}, "expires_days": {"7"}}, 400, "Choose at least one scope."},
		{"bad expiry", url.Values{"action": {"approve"}, "token_name": {"t"}, "expires_days": {"0"}, "scope": {"wiki:read"}}, 400, "Choose an expiry of 1 to 365 days."},
		{"bad name", url.Values{"action": {"approve"}, "token_name": {"\x00"}, "expires_days": {"7"}, "scope": {"wiki:read"}}, 400, "Give the token a name"},
		{"a scope not held", url.Values{"action": {"approve"}, "token_name": {"t"}, "expires_days": {"7"}, "scope": {"papers:write"}}, 400, "The token could not be created."},
		{"a resource cap not held", url.Values{"action": {"approve"}, "token_name": {"t"}, "expires_days": {"7"}, "scope": {"wiki:read"}, "resources": {"some"}}, 400, "Choose at least one resource"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantPage(t, s.serve(post(tc.form)), tc.status, tc.shows)
			if g, _ := s.store.DeviceGrantByUserCode(dc.UserCode); g.Status != authstore.DevicePending {
				t.Errorf("grant %q after a refused form", g.Status)
			}
		})
	}
	wantError(t, s.serve(withCookie(newRequest("POST", "/device", "text/plain", "action=deny"), c)), 400, "invalid_request", "")

	wantPage(t, s.serve(post(url.Values{"action": {"approve"}, "token_name": {"t"}, "expires_days": {"7"}, "scope": {"wiki:read"}})), 200, "Device connected.")
	g, _ := s.store.DeviceGrantByUserCode(dc.UserCode)
	if g.Status != authstore.DeviceApproved || g.Approval == nil || g.Approval.UserID != alice.ID || strings.Join(g.Approval.Scopes, " ") != "wiki:read" {
		t.Errorf("approved grant %+v", g)
	}
}
