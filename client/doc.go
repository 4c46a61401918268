// Package client is the Go client of a Gatehouse server: what a command-line
// tool needs to log in with the OAuth 2.0 device flow (RFC 8628) or a
// password (a CLI session: access token and rotating refresh token), keep
// the credentials of several accounts per server in hosts.yml and the
// system keychain ([Keyring]), and call the API behind the gateway with
// them, refreshing a session transparently ([StoredCredentials]: at most
// one refresh per stale token across goroutines and processes).
//
// It is written to be embedded: the `gatehouse` command (cmd/gatehouse) is
// one user, and any service protected by Gatehouse can build its own CLI on
// the same pieces:
//
//   - [NormalizeHost] turns what a user types (`example.com`,
//     `localhost:8080`, `https://example.com/`) into the canonical origin
//     used as the hosts.yml key;
//   - [Store] reads and writes hosts.yml atomically, under a file lock, and
//     refuses files or directories that other users can read;
//   - [Client] talks to one server: [Client.StartDeviceLogin],
//     [Client.Whoami], [Client.Revoke] and [Client.Do] for any API call;
//   - every failure is a typed error ([*AuthError], [*ScopeError],
//     [*RateLimitError], [*NetworkError], [*HTTPError]) whose message says
//     how to fix it, and which wraps a sentinel ([ErrTokenExpired],
//     [ErrInsufficientScope], …) for callers that branch.
//
// It is not a server and has no knowledge of how tokens are stored or
// checked on the gateway; it only speaks the HTTP contract of the served
// endpoints (/api/oauth/device/*, /api/session, /api/refresh, /logout,
// /api/whoami, /api/auth/revoke). It never retries an authentication
// failure (except the one renewal of an expired session token) and never
// reads a token from the environment.
package client
