package client

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestResponseError(t *testing.T) {
	stored := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	c := &Client{Host: "https://example.com", TokenExpiresAt: stored, TokenScopes: []string{"wiki:read"}}
	tests := []struct {
		name     string
		status   int
		header   map[string]string
		body     string
		sentinel error
		want     []string // substrings of the message
	}{
		{
			name:   "expired with stored expiry",
			status: 401,
			header: map[string]string{"WWW-Authenticate": `Bearer realm="gatehouse", error="invalid_token", error_description="token expired"`},
			body:   `{"error":"invalid_token","message":"token expired"}`, sentinel: ErrTokenExpired,
			want: []string{"token for example.com expired on 2026-09-01 00:00 UTC; run: gatehouse auth login -s example.com"},
		},
		{
			name:   "expired with header expiry",
			status: 401,
			header: map[string]string{
				"WWW-Authenticate":           `Bearer realm="gatehouse", error="invalid_token", error_description="token expired"`,
				"Gatehouse-Token-Expiration": "2026-08-15 10:30:00 UTC",
			},
			sentinel: ErrTokenExpired,
			want:     []string{"expired on 2026-08-15 10:30 UTC"},
		},
		{
			name:   "revoked",
			status: 401,
			header: map[string]string{"WWW-Authenticate": `Bearer realm="gatehouse", error="invalid_token", error_description="token revoked"`},
			body:   `{"error":"invalid_token","message":"token revoked"}`, sentinel: ErrTokenRevoked,
			want: []string{"token for example.com was revoked; run: gatehouse auth login -s example.com"},
		},
		{
			name:   "unknown",
			status: 401,
			header: map[string]string{"WWW-Authenticate": `Bearer realm="gatehouse", error="invalid_token", error_description="unknown token"`},
			body:   `{"error":"invalid_token","message":"unknown token"}`, sentinel: ErrTokenInvalid,
			want: []string{"refused (unknown token)", "run: gatehouse auth login -s example.com"},
		},
		{
			name:   "malformed, body only",
			status: 401,
			body:   `{"error":"invalid_token","message":"malformed token"}`, sentinel: ErrTokenInvalid,
			want: []string{"malformed token"},
		},
		{
			name:     "user disabled",
			status:   401,
			header:   map[string]string{"WWW-Authenticate": `Bearer realm="gatehouse", error="invalid_token", error_description="user disabled"`},
			sentinel: ErrUserDisabled,
			want:     []string{"disabled", "operator"},
		},
		{
			name:   "no credential",
			status: 401,
			header: map[string]string{"WWW-Authenticate": `Bearer realm="gatehouse"`},
			body:   `{"error":"unauthorized","message":"authentication required"}`, sentinel: ErrNoCredential,
			want: []string{"none was sent", "gatehouse auth login -s example.com"},
		},
		{
			name:   "insufficient scope",
			status: 403,
			header: map[string]string{
				"WWW-Authenticate":          `Bearer realm="gatehouse", error="insufficient_scope", scope="papers:write"`,
				"Gatehouse-Accepted-Scopes": "papers:write",
			},
			body:     `{"error":"insufficient_scope","message":"insufficient scope: this token lacks papers:write"}`,
			sentinel: ErrInsufficientScope,
			want:     []string{"lacks scope papers:write", "gatehouse auth login -s example.com --scopes wiki:read,papers:write"},
		},
		{
			name:     "insufficient scope from headers of accepted scopes only",
			status:   403,
			header:   map[string]string{"Gatehouse-Accepted-Scopes": "papers:write, papers:admin"},
			body:     `{"error":"insufficient_scope","message":"no"}`,
			sentinel: ErrInsufficientScope,
			want:     []string{"lacks scopes papers:write papers:admin", "--scopes wiki:read,papers:write,papers:admin"},
		},
		{
			name:   "other 403",
			status: 403,
			body:   `{"error":"forbidden","message":"this endpoint requires a browser session token"}`,
			want:   []string{"GET /x on example.com: 403 Forbidden: this endpoint requires a browser session token"},
		},
		{
			name:     "rate limited",
			status:   429,
			header:   map[string]string{"Retry-After": "30"},
			body:     `{"error":"rate_limited","message":"slow down"}`,
			sentinel: ErrRateLimited,
			want:     []string{"rate limited by example.com; retry in 30s"},
		},
		{
			name:     "rate limited without Retry-After",
			status:   429,
			sentinel: ErrRateLimited,
			want:     []string{"retry later"},
		},
		{
			name:   "server error, not JSON",
			status: 502,
			body:   `<html>bad gateway</html>`,
			want:   []string{"GET /x on example.com: 502 Bad Gateway"},
		},
		{
			name:   "oauth error body",
			status: 400,
			body:   `{"error":"invalid_scope","error_description":"unknown scope nope:read"}`,
			want:   []string{"400 Bad Request: unknown scope nope:read"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := &http.Response{StatusCode: tt.status, Header: http.Header{}}
			for k, v := range tt.header {
				resp.Header.Set(k, v)
			}
			err := c.responseError("GET", "/x", resp, []byte(tt.body))
			if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
				t.Errorf("error %v does not wrap %v", err, tt.sentinel)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestErrorsUseCLIName(t *testing.T) {
	c := &Client{Host: "http://localhost:8080", CLIName: "divbase"}
	resp := &http.Response{StatusCode: 401, Header: http.Header{"Www-Authenticate": {`Bearer error="invalid_token", error_description="token revoked"`}}}
	err := c.responseError("GET", "/", resp, nil)
	if want := "run: divbase auth login -s localhost:8080"; !strings.Contains(err.Error(), want) {
		t.Fatalf("message %q lacks %q", err, want)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)
	tests := map[string]time.Duration{
		"":                              0,
		"30":                            30 * time.Second,
		" 5 ":                           5 * time.Second,
		"-1":                            0,
		"999999999":                     0,
		"soon":                          0,
		"Tue, 01 Sep 2026 12:01:00 GMT": time.Minute,
		"Tue, 01 Sep 2026 11:00:00 GMT": 0,
	}
	for in, want := range tests {
		if got := retryAfter(in, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}
