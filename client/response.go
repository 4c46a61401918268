package client

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/api"
)

// responseError turns a response of 400 or more into the typed error that
// says how to fix it. body is the (possibly truncated) response body.
func (c *Client) responseError(method, path string, resp *http.Response, body []byte) error {
	var eb api.Error
	_ = json.Unmarshal(body, &eb) // a body that is not JSON leaves eb empty
	msg := eb.Message
	if msg == "" {
		msg = eb.Description
	}
	challenge, hasChallenge := bearerChallenge(resp.Header.Values("WWW-Authenticate"))
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		e := &AuthError{Host: c.Host, CLI: c.CLIName, Description: challenge["error_description"]}
		if e.Description == "" {
			e.Description = msg
		}
		code := challenge["error"]
		if !hasChallenge && eb.Error == "invalid_token" {
			code = eb.Error
		}
		d := strings.ToLower(e.Description)
		switch {
		case code == "":
			e.Reason = ErrNoCredential
		case strings.Contains(d, "expired"):
			e.Reason = ErrTokenExpired
			e.ExpiredAt = c.TokenExpiresAt
			if t, ok := TokenExpiration(resp.Header); ok {
				e.ExpiredAt = t
			}
		case strings.Contains(d, "revoked"):
			e.Reason = ErrTokenRevoked
		case strings.Contains(d, "disabled"):
			e.Reason = ErrUserDisabled
		default:
			e.Reason = ErrTokenInvalid
		}
		return e
	case http.StatusForbidden:
		if challenge["error"] == "insufficient_scope" || eb.Error == "insufficient_scope" {
			return &ScopeError{
				Host:     c.Host,
				Missing:  strings.Fields(challenge["scope"]),
				Accepted: splitScopes(resp.Header.Get(api.HeaderAcceptedScopes)),
				Have:     c.TokenScopes,
				Message:  msg,
				CLI:      c.CLIName,
			}
		}
	case http.StatusTooManyRequests:
		return &RateLimitError{Host: c.Host, RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now()), Message: msg}
	}
	return &HTTPError{Host: c.Host, Method: method, Path: path, StatusCode: resp.StatusCode, Code: eb.Error, Message: msg}
}

// retryAfter reads a Retry-After value: seconds, or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 || n > 24*3600 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// splitScopes splits a list of scopes separated by commas or spaces.
func splitScopes(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
}

func cliName(s string) string {
	if s == "" {
		return DefaultCLIName
	}
	return s
}
