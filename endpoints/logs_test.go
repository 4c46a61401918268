package endpoints

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/gatehouse/gatehouse/api"
)

// TestNoSecretInLogs drives every endpoint that handles a secret (login,
// CLI session and refresh, PAT creation, the device flow, registration,
// revocation) with the site and its service logging at debug, and
// checks that no password, token, refresh token, cookie or device code
// is in any log line; and that the lines the endpoints owe are there.
func TestNoSecretInLogs(t *testing.T) {
	t.Parallel()
	s := registrationSite(t, 100)
	core, logs := observer.New(zapcore.DebugLevel)
	s.logger = zap.New(core)
	s.svc().Logger = zap.New(core)
	m := s.withMetrics()

	var secrets []string
	keep := func(v ...string) { secrets = append(secrets, v...) }
	keep(testPassword, "wrong password 42")

	s.user(t, "alice", testPassword, []string{"wiki:read"})
	s.mustServe(t, 403, postForm("/login", url.Values{"login": {"alice"}, "password": {"wrong password 42"}}))
	c := s.signIn(t, "alice")
	keep(c.Value)

	cli := decodeAs[api.CLITokens](t, s.mustServe(t, 200, postJSON("/api/session", `{"login":"alice","password":"`+testPassword+`"}`)))
	rot := decodeAs[api.CLITokens](t, s.mustServe(t, 200, postForm("/api/refresh", url.Values{"refresh_token": {cli.RefreshToken}})))
	keep(cli.AccessToken, cli.RefreshToken, rot.AccessToken, rot.RefreshToken)

	made := decodeAs[api.CreateTokenResponse](t, s.mustServe(t, 201, withCookie(postJSON("/api/pat", `{"name":"ci","scopes":["wiki:read"],"expires_days":7}`), c)))
	keep(made.Token)

	dc := s.startDevice(t, "cli", nil)
	keep(dc.DeviceCode)
	wantPage(t, s.serve(withCookie(postForm("/device", url.Values{"user_code": {dc.UserCode}, "action": {"approve"},
		"token_name": {"dev"}, "expires_days": {"7"}, "scope": {"wiki:read"}}), c)), 200, "Device connected.")
	dt := decodeAs[api.DeviceTokenResponse](t, s.mustServe(t, 200, s.poll("cli", dc.DeviceCode)))
	keep(dt.AccessToken)

	reg := decodeAs[api.RegisterResponse](t, s.mustServe(t, 201, postJSON("/v1/auth/register", `{"agent_id":"bot","scopes":["wiki:read"]}`)))
	keep(reg.Data.APIKey)
	s.mustServe(t, 200, withBearer(postJSON("/v1/auth/revoke", `{"key_prefix":"`+reg.Data.KeyPrefix+`"}`), reg.Data.APIKey))
	s.mustServe(t, 401, withBearer(newRequest("GET", "/api/whoami", "", ""), reg.Data.APIKey))
	s.mustServe(t, 200, withBearer(newRequest("POST", "/api/auth/revoke", "", ""), made.Token))
	s.mustServe(t, 200, withCookie(newRequest("POST", "/logout", "", ""), c))

	var all strings.Builder
	for _, e := range logs.All() {
		fmt.Fprintf(&all, "%s %v\n", e.Message, e.ContextMap())
	}
	text := all.String()
	for _, secret := range secrets {
		if secret == "" {
			t.Fatal("an empty secret: the flow above went wrong")
		}
		if strings.Contains(text, secret) {
			t.Errorf("a secret (%.8s…) is in the logs:\n%s", secret, text)
		}
	}
	for _, want := range []string{"login", "logout", "device token issued", "device approved", "agent registered", "token revoked"} {
		if logs.FilterMessage(want).Len() == 0 {
			t.Errorf("no %q log line in:\n%s", want, text)
		}
	}
	// The refusals were counted, once each: the wrong password and the
	// revoked key.
	if got := m.denied(); got != "login_failed token_revoked" {
		t.Errorf("denials counted %q", got)
	}
}
