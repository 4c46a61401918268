package client

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
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
