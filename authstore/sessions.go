package authstore

import "time"

// Session kinds: a browser login (cookie, or its JWT as a Bearer token) or
// a CLI login holding a short access JWT and a rotating refresh token.
const (
	SessionBrowser = "browser"
	SessionCLI     = "cli"
)

// Session is a login's server-side record; its JWT carries only the id.
type Session struct {
	ID         string    `json:"id"`
	UserID     string    `json:"user_id"`
	Kind       string    `json:"kind"`
	CreatedAt  time.Time `json:"created_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	LastSeenAt time.Time `json:"last_seen_at,omitzero"`
	IP         string    `json:"ip,omitempty"`
	UserAgent  string    `json:"user_agent,omitempty"`
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
}
