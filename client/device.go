package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/api"
)

// maxRateLimitedPolls bounds how often Wait starts polling again after
// the token endpoint answered 429.
const maxRateLimitedPolls = 3

// pollMargin is added to the server's polling interval, in seconds.
// golang.org/x/oauth2 polls on a ticker started with the login, so a poll
// can reach the server a few milliseconds less than an interval after the
// previous one (whenever that one was a little late); a server that
// measures the gap strictly, as Gatehouse does, answers slow_down and adds
// 5 s to the interval for the rest of the login. A second of margin keeps
// every poll on the right side of the interval.
const pollMargin = 1

// LoginOptions pre-fill the approval form of a device login. The person
// who approves it in the browser has the last word on each.
type LoginOptions struct {
	// ClientID is the OAuth client_id; empty means [DefaultClientID].
	ClientID string
	// Scopes are the scopes asked for; empty lets the server choose.
	Scopes []string
	// TokenName names the token; empty lets the server choose.
	TokenName string
	// ExpiresDays is the token's lifetime in days; 0 lets the server
	// choose.
	ExpiresDays int
	// Session asks for a CLI session (a short-lived access token and a
	// refresh token) instead of a personal access token.
	Session bool
}

// DeviceLogin is a device login in progress: show UserCode and
// VerificationURI to the user (or open [DeviceLogin.BrowserURL]), then call
// [DeviceLogin.Wait].
type DeviceLogin struct {
	// UserCode is the code the user confirms in the browser (`WDJB-MJHT`).
	UserCode string
	// VerificationURI is the page where the code is entered.
	VerificationURI string
	// VerificationURIComplete is that page with the code filled in; it
	// may be empty.
	VerificationURIComplete string
	// ExpiresAt is when the code stops working.
	ExpiresAt time.Time
	// Interval is the server's polling interval; Wait polls a second
	// less often (see pollMargin), and 5 s less often after each slow_down.
	Interval time.Duration

	client  *Client
	config  oauth2.Config
	auth    *oauth2.DeviceAuthResponse
	session bool
}

// Token is a personal access token obtained by a device login. Printing it
// with %v shows only its hint.
type Token struct {
	// AccessToken is the secret.
	AccessToken string
	// Scopes are the granted scopes.
	Scopes []string
	// ExpiresAt is when it expires; zero if it does not.
	ExpiresAt time.Time
	// RefreshToken, RefreshExpiresAt and SessionID are set when the login
	// asked for a session (LoginOptions.Session) and the server gave one.
	RefreshToken     string
	RefreshExpiresAt time.Time
	SessionID        string
}

// String shows the token's hint, never the secret.
func (t Token) String() string { return TokenHint(t.AccessToken) }

// GoString is [Token.String], for %#v.
func (t Token) GoString() string { return t.String() }

// StartDeviceLogin asks the server for a device code (RFC 8628 §3.1) with
// the options pre-filled. The client's Token is not used.
func (c *Client) StartDeviceLogin(ctx context.Context, opts LoginOptions) (*DeviceLogin, error) {
	codeURL, err := c.url(c.path(func(p Paths) string { return p.DeviceCode }))
	if err != nil {
		return nil, err
	}
	tokenURL, err := c.url(c.path(func(p Paths) string { return p.DeviceToken }))
	if err != nil {
		return nil, err
	}
	clientID := opts.ClientID
	if clientID == "" {
		clientID = DefaultClientID
	}
	cfg := oauth2.Config{
		ClientID: clientID,
		Scopes:   opts.Scopes,
		Endpoint: oauth2.Endpoint{
			DeviceAuthURL: codeURL,
			TokenURL:      tokenURL,
			AuthStyle:     oauth2.AuthStyleInParams,
		},
	}
	var extra []oauth2.AuthCodeOption
	if opts.TokenName != "" {
		extra = append(extra, oauth2.SetAuthURLParam(api.ParamTokenName, opts.TokenName))
	}
	if opts.ExpiresDays > 0 {
		extra = append(extra, oauth2.SetAuthURLParam(api.ParamExpiresDays, strconv.Itoa(opts.ExpiresDays)))
	}
	da, err := cfg.DeviceAuth(c.oauthContext(ctx), extra...)
	if err != nil {
		return nil, c.deviceError(ctx, http.MethodPost, cfg.Endpoint.DeviceAuthURL, err)
	}
	if da.DeviceCode == "" || da.UserCode == "" || da.VerificationURI == "" {
		return nil, fmt.Errorf("device login on %s: the server's answer lacks device_code, user_code or verification_uri", DisplayHost(c.Host))
	}
	// The scopes were for the code request only; polls carry none.
	cfg.Scopes = nil
	interval := time.Duration(da.Interval) * time.Second
	if interval <= 0 {
		interval = 5 * time.Second
	}
	return &DeviceLogin{
		UserCode:                da.UserCode,
		VerificationURI:         da.VerificationURI,
		VerificationURIComplete: da.VerificationURIComplete,
		ExpiresAt:               da.Expiry,
		Interval:                interval,
		client:                  c,
		config:                  cfg,
		auth:                    da,
		session:                 opts.Session,
	}, nil
}

// BrowserURL is the page to open for the user: the complete verification
// URI when the server gave one, else the plain one. It is empty when
// neither is an http or https URL, so that nothing else is ever handed to
// a browser launcher.
func (d *DeviceLogin) BrowserURL() string {
	for _, s := range []string{d.VerificationURIComplete, d.VerificationURI} {
		u, err := url.Parse(s)
		if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
			return u.String()
		}
	}
	return ""
}

// Wait polls the server at its interval plus a second (slower when it
// says slow_down)
// until the login is approved, denied or expired, or ctx ends. Denial
// wraps [ErrAccessDenied] and expiry [ErrDeviceCodeExpired]; the end of
// ctx gives ctx's error.
func (d *DeviceLogin) Wait(ctx context.Context) (*Token, error) {
	c := d.client
	auth := *d.auth
	auth.Interval = int64(d.Interval/time.Second) + pollMargin
	var opts []oauth2.AuthCodeOption
	if d.session {
		opts = append(opts, oauth2.SetAuthURLParam(api.ParamSession, "1"))
	}
	for polls := 0; ; polls++ {
		tok, err := d.config.DeviceAccessToken(c.oauthContext(ctx), &auth, opts...)
		if err == nil {
			return d.token(tok)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(err, context.DeadlineExceeded) && !d.ExpiresAt.IsZero() && !time.Now().Before(d.ExpiresAt) {
			// oauth2 stops polling when the code expires.
			return nil, fmt.Errorf("device login on %s: the code expired before it was approved: %w", DisplayHost(c.Host), ErrDeviceCodeExpired)
		}
		mapped := c.deviceError(ctx, http.MethodPost, d.config.Endpoint.TokenURL, err)
		var rl *RateLimitError
		if !errors.As(mapped, &rl) || polls >= maxRateLimitedPolls {
			return nil, mapped
		}
		wait := rl.RetryAfter
		if wait <= 0 {
			wait = d.Interval
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// token checks and converts what the token endpoint granted.
func (d *DeviceLogin) token(tok *oauth2.Token) (*Token, error) {
	if err := CheckToken(tok.AccessToken); err != nil {
		return nil, fmt.Errorf("device login on %s: the server sent an unusable token: %w", DisplayHost(d.client.Host), err)
	}
	if tt := tok.TokenType; tt != "" && !strings.EqualFold(tt, "Bearer") {
		return nil, fmt.Errorf("device login on %s: the server sent a %q token, not a Bearer token", DisplayHost(d.client.Host), tt)
	}
	t := &Token{AccessToken: tok.AccessToken}
	if s, ok := tok.Extra("scope").(string); ok {
		t.Scopes = strings.Fields(s)
	}
	if tok.ExpiresIn > 0 {
		t.ExpiresAt = tok.Expiry.UTC()
	}
	if tok.RefreshToken != "" {
		if err := CheckToken(tok.RefreshToken); err != nil {
			return nil, fmt.Errorf("device login on %s: the server sent an unusable refresh token: %w", DisplayHost(d.client.Host), err)
		}
		t.RefreshToken = tok.RefreshToken
		if n, ok := tok.Extra("refresh_expires_in").(float64); ok && n > 0 {
			t.RefreshExpiresAt = time.Now().Add(time.Duration(n) * time.Second).UTC()
		}
		t.SessionID, _ = tok.Extra("session_id").(string)
	}
	// A server too old for sessions sends a PAT: it is as good a login,
	// and the caller can tell by the missing RefreshToken.
	return t, nil
}

// oauthContext hands the client's HTTP client to golang.org/x/oauth2.
func (c *Client) oauthContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, c.httpClient())
}

// deviceError turns an error of golang.org/x/oauth2 into this package's.
func (c *Client) deviceError(ctx context.Context, method, rawURL string, err error) error {
	h := DisplayHost(c.Host)
	path := rawURL
	if u, perr := url.Parse(rawURL); perr == nil {
		path = u.Path
	}
	if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok {
		switch re.ErrorCode {
		case "access_denied":
			return fmt.Errorf("device login on %s was denied in the browser: %w", h, ErrAccessDenied)
		case "expired_token":
			return fmt.Errorf("device login on %s: the code expired before it was approved: %w", h, ErrDeviceCodeExpired)
		}
		if re.Response == nil {
			return fmt.Errorf("device login on %s: %w", h, err)
		}
		mapped := c.responseError(method, path, re.Response, re.Body)
		if he, ok := mapped.(*HTTPError); ok && he.StatusCode == http.StatusNotFound {
			return fmt.Errorf("%s does not serve the device login at %s (404); check the server address, and that its gatehouse block enables endpoints", h, path)
		}
		return mapped
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if _, ok := errors.AsType[*url.Error](err); ok {
		return &NetworkError{Host: c.Host, Err: err}
	}
	return fmt.Errorf("device login on %s: %w", h, err)
}
