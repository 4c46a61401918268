package api

import "time"

// TokenInfo is a PAT as listings show it (GET PathPATAPI, the admin API's
// /gatehouse/tokens): never the token itself.
type TokenInfo struct {
	ID   string `json:"id"`
	User string `json:"user"` // the owner's login
	Name string `json:"name"`
	Hint string `json:"hint"` // `qat_abcd****`
	// Scopes are the scopes the token was given.
	Scopes []string `json:"scopes"`
	// Resources caps the token per resource ("project:atlas" -> "read");
	// absent when AllResources.
	Resources    map[string]string `json:"resources,omitempty"`
	AllResources bool              `json:"all_resources"`
	Created      time.Time         `json:"created"`
	// Expires is null for a token that does not expire.
	Expires *time.Time `json:"expires"`
	// LastUsed is null for a token never used.
	LastUsed   *time.Time `json:"last_used"`
	LastUsedIP string     `json:"last_used_ip,omitempty"`
	// CreatedVia is web, device, cli, admin or register.
	CreatedVia string `json:"created_via"`
	// Status is active, expired or revoked.
	Status string `json:"status"`
}

// CreatePATRequest is the JSON body of POST PathPATAPI: a user creates a
// token for themselves with a browser session.
type CreatePATRequest struct {
	Name        string   `json:"name"`
	Scopes      []string `json:"scopes"`
	ExpiresDays int      `json:"expires_days"`
	// Resources caps the token per resource ("project:atlas" -> "read"),
	// never above the caller's current role there; absent means every
	// resource at the caller's role.
	Resources map[string]string `json:"resources,omitempty"`
}

// CreateTokenRequest is the JSON body of the admin API's POST
// /gatehouse/tokens: a token for any user.
type CreateTokenRequest struct {
	User        string   `json:"user"` // the owner's login
	Name        string   `json:"name"`
	Scopes      []string `json:"scopes"`
	ExpiresDays int      `json:"expires_days"`
	NoExpiry    bool     `json:"no_expiry,omitempty"`
	// Resources caps the token per resource ("project:atlas" -> "read");
	// nil means every resource at the owner's membership role.
	Resources map[string]string `json:"resources,omitempty"`
}

// CreateTokenResponse is the answer of a token creation (POST PathPATAPI,
// the admin API's POST /gatehouse/tokens): the plaintext token, in this
// answer only, and its listing.
type CreateTokenResponse struct {
	Token string    `json:"token"`
	Info  TokenInfo `json:"info"`
}
