package gatehousetest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/client/gatehousetest"
)

// TestFakeSpeaksTheContract: the fake's answers decode into the api
// package's shapes with every field the server sets: OAuth errors carry
// message beside error_description, and Gatehouse-Accepted-Scopes is
// separated by spaces, as the server sends it.
func TestFakeSpeaksTheContract(t *testing.T) {
	t.Parallel()
	srv := gatehousetest.NewServer(t)
	srv.RequireScopes("/v1/papers", "papers:read", "papers:write")
	tok := srv.IssueToken("alice", []string{"papers:read"}, time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))

	get := func(path, token string) *http.Response {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	decode := func(resp *http.Response, v any) {
		t.Helper()
		dec := json.NewDecoder(resp.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			t.Fatalf("decoding %T: %v", v, err)
		}
	}

	t.Run("insufficient scope", func(t *testing.T) {
		resp := get("/v1/papers", tok.Secret)
		var e api.Error
		decode(resp, &e)
		if resp.StatusCode != http.StatusForbidden || e.Error != "insufficient_scope" || e.Message == "" {
			t.Errorf("%d %+v", resp.StatusCode, e)
		}
		if got := resp.Header.Get(api.HeaderAcceptedScopes); got != "papers:read papers:write" {
			t.Errorf("%s: %q, want the scopes separated by spaces", api.HeaderAcceptedScopes, got)
		}
	})

	t.Run("session login and refresh", func(t *testing.T) {
		srv.AddUser("carol", "carol password", "135790")
		post := func(path string, form url.Values) *http.Response {
			t.Helper()
			resp, err := http.PostForm(srv.URL+path, form)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { resp.Body.Close() })
			return resp
		}
		resp := post(api.PathSession, url.Values{"login": {"carol"}, "password": {"carol password"}})
		var e api.Error
		decode(resp, &e)
		if resp.StatusCode != http.StatusUnauthorized || e.Error != api.ErrorTOTPRequired {
			t.Errorf("without the code: %d %+v", resp.StatusCode, e)
		}
		resp = post(api.PathSession, url.Values{"login": {"carol"}, "password": {"carol password"}, "totp": {"135790"}})
		var tok api.CLITokens
		decode(resp, &tok)
		if tok.TokenType != "Bearer" || tok.RefreshToken == "" || tok.ExpiresIn <= 0 || tok.RefreshExpiresIn <= 0 || tok.SessionID == "" {
			t.Errorf("session %+v", tok)
		}
		resp = post(api.PathRefresh, url.Values{"grant_type": {api.RefreshGrantType}, "refresh_token": {tok.RefreshToken}})
		var next api.CLITokens
		decode(resp, &next)
		if next.RefreshToken == tok.RefreshToken || next.SessionID != tok.SessionID {
			t.Errorf("refresh %+v", next)
		}
		resp = post(api.PathRefresh, url.Values{"refresh_token": {"ghr_unknown"}})
		decode(resp, &e)
		if resp.StatusCode != http.StatusBadRequest || e.Error != api.ErrorInvalidGrant || e.Description == "" {
			t.Errorf("unknown refresh token: %d %+v", resp.StatusCode, e)
		}
	})

	t.Run("whoami", func(t *testing.T) {
		resp := get(api.PathWhoami, tok.Secret)
		var w api.Whoami
		decode(resp, &w)
		if w.Login != "alice" || w.Credential != api.CredentialPAT || w.TokenID != tok.ID || !w.ExpiresAt.Equal(tok.ExpiresAt) {
			t.Errorf("%+v", w)
		}
		if got := resp.Header.Get(api.HeaderTokenExpiration); got != "2030-01-02 03:04:05 UTC" {
			t.Errorf("%s: %q", api.HeaderTokenExpiration, got)
		}
	})

	t.Run("OAuth errors", func(t *testing.T) {
		for _, tc := range []struct {
			path string
			form url.Values
			code string
		}{
			{api.PathDeviceCode, url.Values{}, "invalid_request"},
			{api.PathDeviceToken, url.Values{api.ParamGrantType: {"password"}}, "unsupported_grant_type"},
			{api.PathDeviceToken, url.Values{api.ParamGrantType: {api.DeviceGrantType}, api.ParamDeviceCode: {"nope"}, api.ParamClientID: {"cli"}}, "invalid_grant"},
		} {
			resp, err := http.Post(srv.URL+tc.path, "application/x-www-form-urlencoded", strings.NewReader(tc.form.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			var e api.Error
			decode(resp, &e)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || e.Error != tc.code || e.Description == "" || e.Message != e.Description {
				t.Errorf("POST %s %v: %d %+v", tc.path, tc.form, resp.StatusCode, e)
			}
		}
	})
}
