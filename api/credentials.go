package api

import "time"

// Whoami is the answer of GET PathWhoami: the credential that made the
// request. It never holds a secret.
type Whoami struct {
	// UserID and Login identify the user.
	UserID string `json:"user_id"`
	Login  string `json:"login"`
	// Tier is the user's rate-limit tier.
	Tier string `json:"tier"`
	// Credential is the kind of credential: CredentialPAT or
	// CredentialSession.
	Credential string `json:"credential"`
	// Scopes are the credential's effective scopes; never null.
	Scopes []string `json:"scopes"`
	// TokenID, TokenName and TokenHint describe a PAT.
	TokenID   string `json:"token_id,omitempty"`
	TokenName string `json:"token_name,omitempty"`
	TokenHint string `json:"token_hint,omitempty"`
	// SessionID is set for a session.
	SessionID string `json:"session_id,omitempty"`
	// ExpiresAt is when the credential expires; zero (and absent) if it
	// does not.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// RevokeResponse is the answer of POST PathRevoke.
type RevokeResponse struct {
	// Revoked is true when the token was revoked.
	Revoked bool `json:"revoked"`
	// TokenID is the revoked token's public id.
	TokenID string `json:"token_id"`
}

// LogoutResponse is the answer of POST PathLogout to a script (a browser
// form gets a redirect).
type LogoutResponse struct {
	LoggedOut       bool `json:"logged_out"`
	SessionsRevoked int  `json:"sessions_revoked"`
}

// CLITokens is the answer of POST PathSession and PathRefresh, shaped
// like an OAuth 2.0 token response: a short-lived access JWT and the
// refresh token that replaces the one sent.
type CLITokens struct {
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"` // "Bearer"
	ExpiresIn        int    `json:"expires_in"` // seconds
	RefreshToken     string `json:"refresh_token"`
	RefreshExpiresIn int    `json:"refresh_expires_in"` // seconds
	SessionID        string `json:"session_id"`
	Scope            string `json:"scope"` // separated by spaces
}

// RevokeCredentialsRequest is the body of POST PathCredentialsRevoke: up
// to 1,000 strings a secret scanner found that look like Gatehouse
// credentials (PATs, session JWTs, refresh tokens).
type RevokeCredentialsRequest struct {
	Credentials []string `json:"credentials"`
}

// RevokeCredentialsResponse is the 202 answer of PathCredentialsRevoke.
// It never says which strings were credentials.
type RevokeCredentialsResponse struct {
	Message string `json:"message"`
}
