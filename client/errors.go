package client

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Sentinels wrapped by the typed errors of this package, for callers that
// branch with [errors.Is].
var (
	// ErrTokenExpired: the server says the token has expired.
	ErrTokenExpired = errors.New("token expired")
	// ErrTokenRevoked: the server says the token was revoked.
	ErrTokenRevoked = errors.New("token revoked")
	// ErrTokenInvalid: the server does not know the token, or it is
	// malformed, or refused for another reason.
	ErrTokenInvalid = errors.New("token invalid")
	// ErrNoCredential: the server wanted a credential and none was sent.
	ErrNoCredential = errors.New("no credential sent")
	// ErrUserDisabled: the token's owner is disabled on the server.
	ErrUserDisabled = errors.New("user disabled")
	// ErrInsufficientScope: the token lacks a scope the route needs.
	ErrInsufficientScope = errors.New("insufficient scope")
	// ErrRateLimited: the server answered 429.
	ErrRateLimited = errors.New("rate limited")
	// ErrAccessDenied: the device login was denied in the browser.
	ErrAccessDenied = errors.New("access denied")
	// ErrDeviceCodeExpired: the device code expired before approval.
	ErrDeviceCodeExpired = errors.New("device code expired")
)

// AuthError is a 401 from the server: the token is expired, revoked,
// unknown or malformed, its owner is disabled, or none was sent. It wraps
// the matching sentinel ([ErrTokenExpired], [ErrTokenRevoked],
// [ErrTokenInvalid], [ErrUserDisabled], [ErrNoCredential]).
type AuthError struct {
	// Host is the normalised server.
	Host string
	// Reason is the sentinel for what happened.
	Reason error
	// Description is the server's explanation (`token expired`).
	Description string
	// ExpiredAt is when the token expired, when known.
	ExpiredAt time.Time
	// CLI is the command named in the fix (`gatehouse`).
	CLI string
}

// Error implements error; the message ends with the command that fixes it.
func (e *AuthError) Error() string {
	h := DisplayHost(e.Host)
	fix := fmt.Sprintf("run: %s auth login -s %s", cliName(e.CLI), h)
	switch e.Reason {
	case ErrTokenExpired:
		if !e.ExpiredAt.IsZero() {
			return fmt.Sprintf("token for %s expired on %s; %s", h, FormatTime(e.ExpiredAt), fix)
		}
		return fmt.Sprintf("token for %s has expired; %s", h, fix)
	case ErrTokenRevoked:
		return fmt.Sprintf("token for %s was revoked; %s", h, fix)
	case ErrNoCredential:
		return fmt.Sprintf("%s wants a token and none was sent; %s", h, fix)
	case ErrUserDisabled:
		return fmt.Sprintf("the account that owns the token for %s is disabled; ask the operator of %s", h, h)
	}
	desc := e.Description
	if desc == "" {
		desc = "invalid token"
	}
	return fmt.Sprintf("token for %s was refused (%s); %s", h, desc, fix)
}

// Unwrap returns the sentinel in Reason.
func (e *AuthError) Unwrap() error { return e.Reason }

// ScopeError is a 403 insufficient_scope: the token is valid but lacks a
// scope the route needs. It wraps [ErrInsufficientScope].
type ScopeError struct {
	// Host is the normalised server.
	Host string
	// Missing are the scopes the server says are needed (the challenge's
	// scope parameter).
	Missing []string
	// Accepted are the scopes the route accepts
	// (Gatehouse-Accepted-Scopes).
	Accepted []string
	// Have are the scopes the token is known to hold, if known.
	Have []string
	// Message is the server's message.
	Message string
	// CLI is the command named in the fix (`gatehouse`).
	CLI string
}

// Error implements error; the message names the missing scope and the
// login that asks for it.
func (e *ScopeError) Error() string {
	h := DisplayHost(e.Host)
	need := e.Missing
	if len(need) == 0 {
		need = e.Accepted
	}
	if len(need) == 0 {
		msg := e.Message
		if msg == "" {
			msg = "insufficient scope"
		}
		return fmt.Sprintf("token for %s may not do this (%s)", h, msg)
	}
	want := append([]string(nil), e.Have...)
	for _, s := range need {
		if !slices.Contains(want, s) {
			want = append(want, s)
		}
	}
	noun := "scope"
	if len(need) > 1 {
		noun = "scopes"
	}
	return fmt.Sprintf("token for %s lacks %s %s; log in again asking for it (your account must hold it): %s auth login -s %s --scopes %s",
		h, noun, strings.Join(need, " "), cliName(e.CLI), h, strings.Join(want, ","))
}

// Unwrap returns [ErrInsufficientScope].
func (e *ScopeError) Unwrap() error { return ErrInsufficientScope }

// RateLimitError is a 429. It wraps [ErrRateLimited].
type RateLimitError struct {
	// Host is the normalised server.
	Host string
	// RetryAfter is the server's Retry-After; zero when it sent none.
	RetryAfter time.Duration
	// Message is the server's message.
	Message string
}

// Error implements error; the message says when to retry.
func (e *RateLimitError) Error() string {
	h := DisplayHost(e.Host)
	if e.RetryAfter <= 0 {
		return fmt.Sprintf("rate limited by %s; retry later", h)
	}
	return fmt.Sprintf("rate limited by %s; retry in %s", h, e.RetryAfter.Round(time.Second))
}

// Unwrap returns [ErrRateLimited].
func (e *RateLimitError) Unwrap() error { return ErrRateLimited }

// HTTPError is any other answer of 400 or more.
type HTTPError struct {
	// Host is the normalised server.
	Host string
	// Method and Path are the request's.
	Method, Path string
	// StatusCode is the response's status.
	StatusCode int
	// Code and Message are the JSON body's `error` and `message` (or
	// OAuth's `error_description`), when it has them.
	Code, Message string
}

// Error implements error.
func (e *HTTPError) Error() string {
	s := fmt.Sprintf("%s %s on %s: %d %s", e.Method, e.Path, DisplayHost(e.Host), e.StatusCode, http.StatusText(e.StatusCode))
	switch {
	case e.Message != "":
		s += ": " + e.Message
	case e.Code != "":
		s += ": " + e.Code
	}
	return s
}

// NetworkError is a request that got no HTTP answer: DNS, connection,
// timeout or TLS failure. Its message names the host.
type NetworkError struct {
	// Host is the normalised server.
	Host string
	// Err is the underlying error.
	Err error
}

// Error implements error.
func (e *NetworkError) Error() string {
	h := DisplayHost(e.Host)
	inner := e.Err
	if ue, ok := errors.AsType[*url.Error](inner); ok {
		inner = ue.Err
	}
	if e.notTLS() {
		_, hostport, _ := strings.Cut(e.Host, "://")
		return fmt.Sprintf("TLS connection to %s failed: it does not speak TLS there; if it serves plain http, use -s http://%s", h, hostport)
	}
	if e.TLS() {
		return fmt.Sprintf("TLS connection to %s failed: %v", h, inner)
	}
	if e.Timeout() {
		return fmt.Sprintf("request to %s timed out: %v", h, inner)
	}
	return fmt.Sprintf("cannot reach %s: %v", h, inner)
}

// Unwrap returns Err.
func (e *NetworkError) Unwrap() error { return e.Err }

// Timeout reports whether the request timed out.
func (e *NetworkError) Timeout() bool {
	ne, ok := errors.AsType[net.Error](e.Err)
	return ok && ne.Timeout()
}

// TLS reports whether the failure is in TLS: a certificate the client does
// not trust, a name mismatch, or a server that does not speak TLS.
func (e *NetworkError) TLS() bool {
	if _, ok := errors.AsType[*tls.CertificateVerificationError](e.Err); ok {
		return true
	}
	if _, ok := errors.AsType[x509.UnknownAuthorityError](e.Err); ok {
		return true
	}
	if _, ok := errors.AsType[x509.HostnameError](e.Err); ok {
		return true
	}
	if _, ok := errors.AsType[x509.CertificateInvalidError](e.Err); ok {
		return true
	}
	if _, ok := errors.AsType[tls.AlertError](e.Err); ok {
		return true
	}
	return e.notTLS()
}

// notTLS reports whether an https request reached a server that answered
// in plain text. net/http replaces tls.RecordHeaderError by an error of
// its own when the answer looks like HTTP, hence the string match.
func (e *NetworkError) notTLS() bool {
	if _, ok := errors.AsType[tls.RecordHeaderError](e.Err); ok {
		return true
	}
	return e.Err != nil && strings.Contains(e.Err.Error(), "server gave HTTP response to HTTPS client")
}

// errorBody is the JSON body of every Gatehouse error, and OAuth's.
type errorBody struct {
	Error            string `json:"error"`
	Message          string `json:"message"`
	ErrorDescription string `json:"error_description"`
}

// responseError turns a response of 400 or more into the typed error that
// says how to fix it. body is the (possibly truncated) response body.
func (c *Client) responseError(method, path string, resp *http.Response, body []byte) error {
	var eb errorBody
	_ = json.Unmarshal(body, &eb) // a body that is not JSON leaves eb empty
	msg := eb.Message
	if msg == "" {
		msg = eb.ErrorDescription
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
				Accepted: splitScopes(resp.Header.Get("Gatehouse-Accepted-Scopes")),
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
