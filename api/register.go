package api

import "time"

// RegisterRequest is the JSON body of POST PathRegister: an agent asks for
// a key within the tiers and scopes the operator opened to registration.
type RegisterRequest struct {
	AgentID string   `json:"agent_id"`
	Scopes  []string `json:"scopes"`
	Tier    string   `json:"tier"` // empty: the first open tier
}

// RegisterResponse is the answer to a registration: the key, once.
type RegisterResponse struct {
	Data    RegisteredKey `json:"data"`
	Message string        `json:"message"`
}

// RegisteredKey is the key a registration minted.
type RegisteredKey struct {
	APIKey string `json:"api_key"`
	// KeyPrefix names the key in POST PathRegisterRevoke.
	KeyPrefix string    `json:"key_prefix"`
	Scopes    []string  `json:"scopes"`
	Tier      string    `json:"tier"`
	CreatedAt time.Time `json:"created_at"`
}

// RegisterRevokeRequest is the JSON body of POST PathRegisterRevoke; the
// key itself is sent as Bearer.
type RegisterRevokeRequest struct {
	KeyPrefix string `json:"key_prefix"`
}

// RegisterRevokeResponse is the answer of POST PathRegisterRevoke.
type RegisterRevokeResponse struct {
	Data    RevokedKey `json:"data"`
	Message string     `json:"message"`
}

// RevokedKey is the key a POST PathRegisterRevoke revoked.
type RevokedKey struct {
	KeyPrefix string    `json:"key_prefix"`
	Revoked   bool      `json:"revoked"`
	RevokedAt time.Time `json:"revoked_at"`
}
