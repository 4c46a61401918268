package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/api"
)

// TokenExpirationHeader carries the expiry of the PAT that authenticated
// a request, on every response to one (`2026-09-01 00:00:00 UTC`).
const TokenExpirationHeader = api.HeaderTokenExpiration

// maxErrorBody bounds how much of an error response is read.
const maxErrorBody = 1 << 20

// RefreshAhead is how long before its expiry a session token is renewed
// ahead of a request whose body cannot be sent twice.
const RefreshAhead = 60 * time.Second

// Request is one API call.
type Request struct {
	// Method is the HTTP method; empty means GET.
	Method string
	// Path is the path on the server, with an optional query; it is
	// joined to the client's Host and may not leave it.
	Path string
	// Body is sent as the request body when not nil.
	Body []byte
	// Stream is a body that can be read only once (a pipe), instead of
	// Body. Such a request is never sent twice: a session token about to
	// expire is renewed before it is sent, and an expired one is not
	// retried.
	Stream io.Reader
	// Header holds extra request headers. Authorization is always the
	// client's token and cannot be set here.
	Header http.Header
}

// Do sends an API call with the client's token. Whenever the server
// answers, the response is returned and the caller must close its body. A
// status of 400 or more also gives an error that says how to fix it
// ([*AuthError], [*ScopeError], [*RateLimitError] or [*HTTPError]); the
// response's body has then been read and is replayed from memory. A
// failure to reach the server is a [*NetworkError] and no response.
//
// With Credentials, a token known to have expired is renewed before the
// request, and so is one within [RefreshAhead] of its expiry when the
// body is a Stream; a request refused because its token expired is
// renewed and sent again, once. A renewal the server refuses is a
// [*LoginError] wrapping [ErrSessionInvalidated], and no response.
//
// A GET or HEAD answered 429 is retried once after its Retry-After, if
// that is no longer than MaxRetryWait; nothing else is ever retried, and
// an authentication failure never is, except for that one renewal.
func (c *Client) Do(ctx context.Context, r *Request) (*http.Response, error) {
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	if r.Stream != nil && r.Body != nil {
		return nil, errors.New("a request has either a Body or a Stream")
	}
	token, exp := c.Token, c.TokenExpiresAt
	if c.Credentials != nil {
		var err error
		if token, exp, err = c.Credentials.Token(ctx); err != nil {
			return nil, err
		}
	}
	renewed := false
	if c.Credentials != nil && token != "" && !exp.IsZero() {
		left := exp.Sub(c.now())
		if left <= 0 || (r.Stream != nil && left <= RefreshAhead) {
			fresh, _, err := c.Credentials.Renew(ctx, token)
			switch {
			case err == nil:
				token, renewed = fresh, true
			case !errors.Is(err, ErrCannotRenew):
				return nil, err
			}
		}
	}
	resp, err := c.sendRetrying(ctx, method, r, token)
	if inv, ok := c.Credentials.(Invalidator); ok && (errors.Is(err, ErrTokenRevoked) || errors.Is(err, ErrTokenInvalid)) {
		inv.Invalidate(ctx, token, err)
	}
	if err == nil || renewed || c.Credentials == nil || r.Stream != nil || !errors.Is(err, ErrTokenExpired) {
		return resp, err
	}
	fresh, _, rerr := c.Credentials.Renew(ctx, token)
	if rerr != nil {
		if errors.Is(rerr, ErrCannotRenew) {
			return resp, err
		}
		resp.Body.Close()
		return nil, rerr
	}
	resp.Body.Close()
	return c.sendRetrying(ctx, method, r, fresh)
}

// sendRetrying sends the request with token, and once more after the
// Retry-After of a 429 to a GET or HEAD.
func (c *Client) sendRetrying(ctx context.Context, method string, r *Request, token string) (*http.Response, error) {
	maxWait := c.MaxRetryWait
	if maxWait == 0 {
		maxWait = DefaultMaxRetryWait
	}
	resp, err := c.sendOnce(ctx, method, r, token)
	var rl *RateLimitError
	if err == nil || !errors.As(err, &rl) || (method != http.MethodGet && method != http.MethodHead) ||
		r.Stream != nil || rl.RetryAfter <= 0 || rl.RetryAfter > maxWait {
		return resp, err
	}
	if c.OnRetry != nil {
		c.OnRetry(rl.RetryAfter, rl)
	}
	t := time.NewTimer(rl.RetryAfter)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return resp, err
	case <-t.C:
	}
	resp.Body.Close()
	return c.sendOnce(ctx, method, r, token)
}

// sendOnce makes one attempt of Do with token (none when empty).
func (c *Client) sendOnce(ctx context.Context, method string, r *Request, token string) (*http.Response, error) {
	u, err := c.url(r.Path)
	if err != nil {
		return nil, err
	}
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	} else if r.Stream != nil {
		body = r.Stream
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, r.Path, err)
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Del("Authorization")
	if token != "" {
		if err := CheckToken(token); err != nil {
			return nil, fmt.Errorf("token for %s: %w", DisplayHost(c.Host), err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	req.Header.Set("User-Agent", c.userAgent())
	resp, err := c.httpClient().Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s %s on %s: %w", method, r.Path, DisplayHost(c.Host), ctx.Err())
		}
		return nil, &NetworkError{Host: c.Host, Err: err}
	}
	if resp.StatusCode < 400 {
		return resp, nil
	}
	data, readErr := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	if readErr != nil && ctx.Err() == nil && len(data) == 0 {
		return resp, &NetworkError{Host: c.Host, Err: readErr}
	}
	return resp, c.responseError(method, r.Path, resp, data)
}

// callJSON sends a call and decodes a JSON answer into v.
func (c *Client) callJSON(ctx context.Context, method, path string, v any) error {
	resp, err := c.Do(ctx, &Request{Method: method, Path: path})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg := "unexpected answer"
		if loc := resp.Header.Get("Location"); loc != "" {
			msg = "unexpected redirect to " + loc
		}
		return &HTTPError{Host: c.Host, Method: method, Path: path, StatusCode: resp.StatusCode, Message: msg}
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxErrorBody)).Decode(v); err != nil {
		return fmt.Errorf("%s %s on %s: reading the answer: %w", method, path, DisplayHost(c.Host), err)
	}
	return nil
}

// Whoami describes the credential that made a request, as /api/whoami
// tells it.
type Whoami = api.Whoami

// Whoami asks the server who the client's token belongs to. It is also
// the way to check that a token is valid: an invalid one gives an
// [*AuthError].
func (c *Client) Whoami(ctx context.Context) (*Whoami, error) {
	var w Whoami
	if err := c.callJSON(ctx, http.MethodGet, c.path(func(p Paths) string { return p.Whoami }), &w); err != nil {
		return nil, err
	}
	return &w, nil
}

// Revoked is the server's answer to a revocation.
type Revoked = api.RevokeResponse

// Revoke revokes the client's own token on the server. Once it returns
// without error the token is useless, on this server.
func (c *Client) Revoke(ctx context.Context) (*Revoked, error) {
	var r Revoked
	if err := c.callJSON(ctx, http.MethodPost, c.path(func(p Paths) string { return p.Revoke }), &r); err != nil {
		return nil, err
	}
	if !r.Revoked {
		return &r, fmt.Errorf("%s did not confirm the revocation", DisplayHost(c.Host))
	}
	return &r, nil
}

// expirationLayouts are the forms of Gatehouse-Token-Expiration accepted.
var expirationLayouts = []string{"2006-01-02 15:04:05 MST", "2006-01-02 15:04:05 -0700", time.RFC3339}

// TokenExpiration reads the Gatehouse-Token-Expiration header; ok is false
// when it is absent (a token that does not expire) or unreadable.
func TokenExpiration(h http.Header) (t time.Time, ok bool) {
	v := strings.TrimSpace(h.Get(TokenExpirationHeader))
	if v == "" {
		return time.Time{}, false
	}
	for _, layout := range expirationLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// FormatTime is how this package writes a time in messages:
// `2026-09-01 00:00 UTC`.
func FormatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04 MST")
}
