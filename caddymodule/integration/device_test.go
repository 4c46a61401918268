package integration

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/internal/clock"
)

// deviceSite serves the endpoints next to the usual rules.
const deviceSite = "endpoints\n" + defaultSite

func (g *gateway) oauthConfig(scopes ...string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: "gatehouse-cli",
		Scopes:   scopes,
		Endpoint: oauth2.Endpoint{
			DeviceAuthURL: g.base + "/api/oauth/device/code",
			TokenURL:      g.base + "/api/oauth/device/token",
			AuthStyle:     oauth2.AuthStyleInParams,
		},
	}
}

// postForm posts a form to the gateway and decodes the JSON answer.
func (g *gateway) postForm(path string, form url.Values) (int, map[string]any) {
	g.t.Helper()
	resp, body := g.do("POST", path, strings.NewReader(form.Encode()), "Content-Type: application/x-www-form-urlencoded")
	var out map[string]any
	json.Unmarshal(body, &out)
	return resp.StatusCode, out
}

// TestDeviceCodeAnswer checks the device authorization response of RFC
// 8628 §3.2 as a real client library (golang.org/x/oauth2) reads it.
func TestDeviceCodeAnswer(t *testing.T) {
	g := newGateway(t, setup{site: deviceSite})
	resp, err := g.oauthConfig("papers:read").DeviceAuth(context.Background(), oauth2.SetAuthURLParam("token_name", "ci"))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.UserCode) != 9 || resp.UserCode[4] != '-' || strings.Trim(strings.ReplaceAll(resp.UserCode, "-", ""), "BCDFGHJKLMNPQRSTVWXZ") != "" {
		t.Errorf("user code %q", resp.UserCode)
	}
	if resp.VerificationURI != g.base+"/device" || resp.VerificationURIComplete != g.base+"/device?user_code="+resp.UserCode {
		t.Errorf("verification URIs %q %q", resp.VerificationURI, resp.VerificationURIComplete)
	}
	if resp.Interval != 5 || time.Until(resp.Expiry) < 9*time.Minute {
		t.Errorf("interval %d, expiry %v", resp.Interval, resp.Expiry)
	}
	if len(resp.DeviceCode) < 43 {
		t.Errorf("device code too short: %d", len(resp.DeviceCode))
	}
	raw, _ := g.do("POST", "/api/oauth/device/code", strings.NewReader("client_id=x"), "Content-Type: application/x-www-form-urlencoded")
	if raw.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", raw.Header.Get("Cache-Control"))
	}
	g.assertNotLogged(resp.DeviceCode, resp.UserCode, strings.ReplaceAll(resp.UserCode, "-", ""))
}

// TestDevicePolling: pending, slow_down with a growing interval, expiry,
// all as the token endpoint answers them.
func TestDevicePolling(t *testing.T) {
	g := newGateway(t, setup{site: deviceSite, global: defaultGlobal + "\ndevice_code_ttl 10s\ndevice_interval 1s"})
	dev, err := g.oauthConfig().DeviceAuth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	poll := func() (int, map[string]any) {
		return g.postForm("/api/oauth/device/token", url.Values{
			"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {dev.DeviceCode}, "client_id": {"gatehouse-cli"},
		})
	}
	if code, body := poll(); code != 400 || body["error"] != "authorization_pending" {
		t.Fatalf("first poll: %d %v", code, body)
	}
	code, body := poll()
	if code != 400 || body["error"] != "slow_down" || !strings.Contains(body["error_description"].(string), "wait 6 seconds") {
		t.Fatalf("fast poll: %d %v", code, body)
	}
	if _, body := poll(); !strings.Contains(body["error_description"].(string), "wait 11 seconds") {
		t.Fatalf("interval did not grow again: %v", body)
	}
	// golang.org/x/oauth2 stops polling at the code's expiry by itself;
	// a client that polls later is told the code expired.
	t.Cleanup(clock.Stop(time.Now()))
	clock.Advance(time.Until(dev.Expiry) + time.Second)
	if code, body := poll(); code != 400 || body["error"] != "expired_token" {
		t.Fatalf("after expiry: %d %v", code, body)
	}
}

// TestDeviceBadInput: every malformed request is a clear 4xx in OAuth
// form, and nothing is created.
func TestDeviceBadInput(t *testing.T) {
	g := newGateway(t, setup{site: deviceSite})
	dev, err := g.oauthConfig().DeviceAuth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	form := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	const grant = "urn:ietf:params:oauth:grant-type:device_code"
	cases := []struct {
		name, method, path, ctype, body string
		status                          int
		errCode                         string
	}{
		{"wrong grant type", "POST", "/api/oauth/device/token", "application/x-www-form-urlencoded", form("grant_type", "password", "device_code", dev.DeviceCode, "client_id", "gatehouse-cli"), 400, "unsupported_grant_type"},
		{"missing grant type", "POST", "/api/oauth/device/token", "application/x-www-form-urlencoded", form("device_code", dev.DeviceCode, "client_id", "gatehouse-cli"), 400, "invalid_request"},
		{"missing device code", "POST", "/api/oauth/device/token", "application/x-www-form-urlencoded", form("grant_type", grant, "client_id", "gatehouse-cli"), 400, "invalid_request"},
		{"missing client id", "POST", "/api/oauth/device/token", "application/x-www-form-urlencoded", form("grant_type", grant, "device_code", dev.DeviceCode), 400, "invalid_request"},
		{"unknown device code", "POST", "/api/oauth/device/token", "application/x-www-form-urlencoded", form("grant_type", grant, "device_code", "nope", "client_id", "gatehouse-cli"), 400, "invalid_grant"},
		{"another client's code", "POST", "/api/oauth/device/token", "application/x-www-form-urlencoded", form("grant_type", grant, "device_code", dev.DeviceCode, "client_id", "other"), 400, "invalid_grant"},
		{"JSON body", "POST", "/api/oauth/device/token", "application/json", `{"grant_type":"` + grant + `"}`, 400, "invalid_request"},
		{"GET token", "GET", "/api/oauth/device/token", "", "", 405, "method_not_allowed"},
		{"GET code", "GET", "/api/oauth/device/code", "", "", 405, "method_not_allowed"},
		{"code without client id", "POST", "/api/oauth/device/code", "application/x-www-form-urlencoded", form("scope", "papers:read"), 400, "invalid_request"},
		{"code with unknown scope", "POST", "/api/oauth/device/code", "application/x-www-form-urlencoded", form("client_id", "c", "scope", "papers:burn"), 400, "invalid_scope"},
		{"code with bad expiry", "POST", "/api/oauth/device/code", "application/x-www-form-urlencoded", form("client_id", "c", "expires_days", "0"), 400, "invalid_request"},
		{"code with JSON", "POST", "/api/oauth/device/code", "application/json", `{"client_id":"c"}`, 400, "invalid_request"},
		{"garbled form", "POST", "/api/oauth/device/code", "application/x-www-form-urlencoded", "client_id=%zz", 400, "invalid_request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var headers []string
			if tc.ctype != "" {
				headers = append(headers, "Content-Type: "+tc.ctype)
			}
			resp, body := g.do(tc.method, tc.path, strings.NewReader(tc.body), headers...)
			var e map[string]any
			json.Unmarshal(body, &e)
			if resp.StatusCode != tc.status || e["error"] != tc.errCode || e["message"] == "" {
				t.Errorf("%d %s, want %d %s", resp.StatusCode, body, tc.status, tc.errCode)
			}
		})
	}
	// The grant is still pending: bad requests changed nothing.
	if code, body := g.postForm("/api/oauth/device/token", url.Values{"grant_type": {grant}, "device_code": {dev.DeviceCode}, "client_id": {"gatehouse-cli"}}); body["error"] != "authorization_pending" {
		t.Errorf("after bad input: %d %v", code, body)
	}
	_ = http.StatusOK
}
