package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/api"
)

// DefaultCLIName is the command named in the fixes that errors suggest.
const DefaultCLIName = "gatehouse"

// DefaultClientID is the OAuth client_id the device flow sends.
const DefaultClientID = "gatehouse-cli"

// DefaultMaxRetryWait is the longest Retry-After that [Client.Do] waits
// out before retrying a rate-limited GET.
const DefaultMaxRetryWait = 60 * time.Second

// DefaultTimeout is the per-request timeout of the default HTTP client.
const DefaultTimeout = 30 * time.Second

// Paths are the server's endpoint paths. The zero value means
// [DefaultPaths]; a field left empty takes its default.
type Paths struct {
	// DeviceCode starts a device login (RFC 8628 §3.1).
	DeviceCode string
	// DeviceToken is polled for the token (RFC 8628 §3.4).
	DeviceToken string
	// Whoami describes the caller's credential.
	Whoami string
	// Revoke revokes the credential that calls it.
	Revoke string
	// Session starts a CLI session with a password.
	Session string
	// Refresh renews a CLI session.
	Refresh string
	// Logout ends the caller's session.
	Logout string
}

// DefaultPaths are the paths a Gatehouse server serves unless its operator
// moved them.
var DefaultPaths = Paths{
	DeviceCode:  api.PathDeviceCode,
	DeviceToken: api.PathDeviceToken,
	Whoami:      api.PathWhoami,
	Revoke:      api.PathRevoke,
	Session:     api.PathSession,
	Refresh:     api.PathRefresh,
	Logout:      api.PathLogout,
}

// Client talks to one Gatehouse server with one token. The zero value is
// not usable: Host must be set (a [NormalizeHost] result); everything else
// has a default. A Client is safe for concurrent use once set up.
type Client struct {
	// Host is the server's normalised origin, `scheme://host[:port]`.
	Host string
	// Token is the personal access token sent as a Bearer token; empty
	// for the device flow.
	Token string
	// TokenExpiresAt and TokenScopes are what is known locally about
	// Token; they only make error messages more precise.
	TokenExpiresAt time.Time
	TokenScopes    []string
	// HTTPClient sends the requests; nil means a client with
	// [DefaultTimeout]. Redirects to another origin are never followed,
	// so the token stays with Host.
	HTTPClient *http.Client
	// UserAgent is sent with every request; empty means
	// `gatehouse-client (GOOS/GOARCH)`.
	UserAgent string
	// CLIName is the command that fixes in error messages name; empty
	// means [DefaultCLIName].
	CLIName string
	// Paths are the server's endpoint paths.
	Paths Paths
	// MaxRetryWait is the longest Retry-After that [Client.Do] waits out
	// (once) for a rate-limited GET or HEAD; zero means
	// [DefaultMaxRetryWait], negative means never retry.
	MaxRetryWait time.Duration
	// OnRetry, if set, is told before Do waits out a 429.
	OnRetry func(wait time.Duration, err *RateLimitError)
	// Credentials, if set, supplies the token instead of Token and
	// renews it: Do then refreshes an expired session token and retries
	// once (see [Client.Do]).
	Credentials Credentials
	// Now is the clock that decides whether a token is about to expire;
	// nil means time.Now.
	Now func() time.Time
}

// Credentials supply a [Client]'s token and renew it.
type Credentials interface {
	// Token returns the token to send now, and when it expires (zero:
	// not known); an empty token sends the request anonymously.
	Token(ctx context.Context) (token string, expiresAt time.Time, err error)
	// Renew returns a token to replace stale, which the server refused
	// as expired or which is about to expire. It is called at most once
	// per request, and an implementation renews at most once per stale
	// token, however many callers ask. An error wrapping ErrCannotRenew
	// means this credential cannot be renewed (a PAT); the request then
	// fails with the server's answer.
	Renew(ctx context.Context, stale string) (token string, expiresAt time.Time, err error)
}

// Invalidator is implemented by Credentials that record a session the
// server refused for good (revoked, unknown), so that later requests fail
// at once instead of sending a dead token.
type Invalidator interface {
	// Invalidate records that the server refused token for reason.
	Invalidate(ctx context.Context, token string, reason error)
}

// ErrCannotRenew is wrapped by [Credentials.Renew] for a credential that
// cannot be renewed.
var ErrCannotRenew = errors.New("this credential cannot be renewed")

// now is the client's clock.
func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// ForHost returns a client for a stored entry: key is its normalised host
// and h what is stored for it.
func ForHost(key string, h *Host) *Client {
	c := &Client{Host: key}
	if h != nil {
		c.Token = h.Token
		c.TokenExpiresAt = h.ExpiresAt
		c.TokenScopes = h.Scopes
	}
	return c
}

// path returns the configured path of an endpoint.
func (c *Client) path(get func(Paths) string) string {
	if p := get(c.Paths); p != "" {
		return p
	}
	return get(DefaultPaths)
}

// url joins Host and a path (with an optional query), and refuses a
// result whose origin is not Host.
func (c *Client) url(path string) (string, error) {
	if c.Host == "" {
		return "", errors.New("client has no host")
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	base, err := url.Parse(c.Host)
	if err != nil {
		return "", fmt.Errorf("host %q: %w", c.Host, err)
	}
	u, err := url.Parse(c.Host + path)
	if err != nil {
		return "", fmt.Errorf("path %q: %w", path, err)
	}
	if u.Scheme != base.Scheme || u.Host != base.Host {
		return "", fmt.Errorf("path %q leaves %s", path, DisplayHost(c.Host))
	}
	return u.String(), nil
}

// httpClient returns the HTTP client with the same-origin redirect rule.
func (c *Client) httpClient() *http.Client {
	hc := &http.Client{Timeout: DefaultTimeout}
	if c.HTTPClient != nil {
		copied := *c.HTTPClient
		hc = &copied
	}
	if hc.CheckRedirect == nil {
		hc.CheckRedirect = sameOriginRedirect
	}
	return hc
}

// sameOriginRedirect follows up to 10 redirects within one origin and
// hands any other redirect back to the caller as the response.
func sameOriginRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if req.URL.Scheme != via[0].URL.Scheme || req.URL.Host != via[0].URL.Host {
		return http.ErrUseLastResponse
	}
	return nil
}

// userAgent returns the User-Agent header value.
func (c *Client) userAgent() string {
	if c.UserAgent != "" {
		return c.UserAgent
	}
	return "gatehouse-client (" + runtime.GOOS + "/" + runtime.GOARCH + ")"
}

// CheckToken rejects a string that cannot be a token: empty, longer than
// 512 bytes, or holding spaces or control characters (which would break
// the Authorization header or hosts.yml).
func CheckToken(token string) error {
	switch {
	case token == "":
		return errors.New("the token is empty")
	case len(token) > 512:
		return errors.New("the token is too long (more than 512 bytes)")
	case strings.ContainsFunc(token, func(r rune) bool { return r <= ' ' || r >= 0x7f }):
		return errors.New("the token holds spaces or characters outside printable ASCII")
	}
	return nil
}
