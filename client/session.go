package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/api"
)

// CLI sessions: a password login (or a device login that asked for one)
// gives a short-lived access JWT and a refresh token that rotates on every
// use. These are the two calls that make and renew them; [Client.Do]
// renews on its own through [Client.Credentials].

var (
	// ErrBadCredentials: the login, password or one-time code was wrong.
	ErrBadCredentials = errors.New("incorrect login, password or one-time code")
	// ErrTOTPRequired: the password was right and the account also needs
	// its one-time code.
	ErrTOTPRequired = errors.New("one-time code required")
	// ErrSessionInvalidated: the server refused to refresh the session
	// (revoked, expired, its refresh token reused, unknown); only a new
	// login helps.
	ErrSessionInvalidated = errors.New("session invalidated")
)

// SessionTokens is what a password login or a refresh gives: the access
// token, the refresh token that replaces the one sent, and when each
// ends. Printing it shows no secret.
type SessionTokens struct {
	AccessToken      string
	ExpiresAt        time.Time
	RefreshToken     string
	RefreshExpiresAt time.Time
	SessionID        string
	Scopes           []string
}

// String shows the hints, never the secrets.
func (t SessionTokens) String() string {
	return fmt.Sprintf("{session %s, access %s, refresh %s}", t.SessionID, TokenHint(t.AccessToken), TokenHint(t.RefreshToken))
}

// GoString is [SessionTokens.String], for %#v.
func (t SessionTokens) GoString() string { return t.String() }

// Apply stores the tokens in an account's entry, which becomes a valid
// session again.
func (t *SessionTokens) Apply(h *Host) {
	h.Kind = KindSession
	h.Token, h.ExpiresAt = t.AccessToken, t.ExpiresAt
	h.RefreshToken, h.RefreshExpiresAt = t.RefreshToken, t.RefreshExpiresAt
	if t.SessionID != "" {
		h.SessionID = t.SessionID
	}
	if t.Scopes != nil {
		h.Scopes = t.Scopes
	}
	h.TokenHint = TokenHint(t.AccessToken)
	h.TokenID = ""
	h.State = ""
}

// LoginError is a refused password login or refresh. It wraps
// [ErrBadCredentials], [ErrTOTPRequired] or [ErrSessionInvalidated].
type LoginError struct {
	// Host is the normalised server.
	Host string
	// Reason is the sentinel.
	Reason error
	// Code and Message are the server's (`invalid_grant`, "the session has
	// been revoked; log in again").
	Code, Message string
	// CLI is the command named in the fix.
	CLI string
}

// Error implements error; the message ends with the fix.
func (e *LoginError) Error() string {
	h := DisplayHost(e.Host)
	switch e.Reason {
	case ErrTOTPRequired:
		return fmt.Sprintf("%s wants the account's one-time code; give it with --totp CODE", h)
	case ErrSessionInvalidated:
		msg := e.Message
		if msg == "" {
			msg = "the session cannot be refreshed"
		}
		return fmt.Sprintf("session on %s invalidated (%s); run: %s auth login -s %s", h, msg, cliName(e.CLI), h)
	}
	return fmt.Sprintf("login to %s refused: %s", h, ErrBadCredentials)
}

// Unwrap returns Reason.
func (e *LoginError) Unwrap() error { return e.Reason }

// PasswordLogin starts a CLI session with a login, password and, for an
// account that has one, the one-time code (empty when not known yet: a
// right password then gives a [*LoginError] wrapping [ErrTOTPRequired]).
// The client's own credential is not sent.
func (c *Client) PasswordLogin(ctx context.Context, login, password, code string) (*SessionTokens, error) {
	form := url.Values{api.ParamLogin: {login}, api.ParamPassword: {password}}
	if code != "" {
		form.Set(api.ParamTOTP, code)
	}
	return c.sessionCall(ctx, c.path(func(p Paths) string { return p.Session }), form)
}

// RefreshSession exchanges a refresh token for new tokens. A refusal by
// the server is a [*LoginError] wrapping [ErrSessionInvalidated]; the
// refresh token is then useless. The client's own credential is not sent.
func (c *Client) RefreshSession(ctx context.Context, refreshToken string) (*SessionTokens, error) {
	if err := CheckToken(refreshToken); err != nil {
		return nil, fmt.Errorf("refresh token for %s: %w", DisplayHost(c.Host), err)
	}
	form := url.Values{api.ParamGrantType: {api.RefreshGrantType}, api.ParamRefreshToken: {refreshToken}}
	return c.sessionCall(ctx, c.path(func(p Paths) string { return p.Refresh }), form)
}

// sessionCall posts a form to the session or refresh endpoint, without
// the client's credential, and reads the tokens.
func (c *Client) sessionCall(ctx context.Context, path string, form url.Values) (*SessionTokens, error) {
	anon := *c
	anon.Credentials, anon.Token = nil, ""
	start := anon.now()
	resp, err := anon.sendOnce(ctx, http.MethodPost, &Request{
		Method: http.MethodPost, Path: path, Body: []byte(form.Encode()),
		Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
	}, "")
	if err != nil {
		if resp == nil {
			return nil, err
		}
		defer resp.Body.Close()
		return nil, c.sessionError(resp, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &HTTPError{Host: c.Host, Method: http.MethodPost, Path: path, StatusCode: resp.StatusCode, Message: "unexpected answer"}
	}
	var t api.CLITokens
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxErrorBody)).Decode(&t); err != nil {
		return nil, fmt.Errorf("POST %s on %s: reading the answer: %w", path, DisplayHost(c.Host), err)
	}
	for _, tok := range []string{t.AccessToken, t.RefreshToken} {
		if err := CheckToken(tok); err != nil {
			return nil, fmt.Errorf("POST %s on %s: the server sent an unusable token: %w", path, DisplayHost(c.Host), err)
		}
	}
	// Dated from before the request: the token may end a little earlier
	// than it does, never later.
	out := &SessionTokens{
		AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, SessionID: t.SessionID,
		Scopes: strings.Fields(t.Scope),
	}
	if out.Scopes == nil {
		out.Scopes = []string{}
	}
	if t.ExpiresIn > 0 {
		out.ExpiresAt = start.Add(time.Duration(t.ExpiresIn) * time.Second).UTC()
	}
	if t.RefreshExpiresIn > 0 {
		out.RefreshExpiresAt = start.Add(time.Duration(t.RefreshExpiresIn) * time.Second).UTC()
	}
	return out, nil
}

// sessionError turns a refused login or refresh into a *LoginError where
// the server's code says which; other failures (429, 5xx) stay as they
// are.
func (c *Client) sessionError(resp *http.Response, err error) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var eb api.Error
	_ = json.Unmarshal(bytes.TrimSpace(body), &eb)
	msg := eb.Message
	if msg == "" {
		msg = eb.Description
	}
	le := &LoginError{Host: c.Host, Code: eb.Error, Message: msg, CLI: c.CLIName}
	switch {
	case eb.Error == api.ErrorTOTPRequired:
		le.Reason = ErrTOTPRequired
	case eb.Error == api.ErrorInvalidCredentials:
		le.Reason = ErrBadCredentials
	case eb.Error == api.ErrorInvalidGrant:
		le.Reason = ErrSessionInvalidated
	default:
		return err
	}
	return le
}

// Logout ends the session of the client's token on the server (POST
// /logout with the access token): its refresh token stops working too.
// It reports how many sessions ended (0: none was live).
func (c *Client) Logout(ctx context.Context) (int, error) {
	var r api.LogoutResponse
	if err := c.callJSON(ctx, http.MethodPost, c.path(func(p Paths) string { return p.Logout }), &r); err != nil {
		return 0, err
	}
	if !r.LoggedOut {
		return 0, fmt.Errorf("%s did not confirm the logout", DisplayHost(c.Host))
	}
	return r.SessionsRevoked, nil
}
