package caddymodule

import (
	"net/http"
	"time"
)

func init() {
	registerEndpoint(&endpoint{
		name: "whoami", path: "/api/whoami", methods: []string{http.MethodGet, http.MethodHead},
		access: accessAny, serve: (*Handler).serveWhoami,
	})
}

// whoamiResponse describes the caller's credential. It never holds a
// secret.
type whoamiResponse struct {
	UserID     string     `json:"user_id"`
	Login      string     `json:"login"`
	Tier       string     `json:"tier"`
	Credential string     `json:"credential"`
	Scopes     []string   `json:"scopes"`
	TokenID    string     `json:"token_id,omitempty"`
	TokenName  string     `json:"token_name,omitempty"`
	TokenHint  string     `json:"token_hint,omitempty"`
	SessionID  string     `json:"session_id,omitempty"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
}

// serveWhoami answers GET /api/whoami for any credential.
func (h *Handler) serveWhoami(w http.ResponseWriter, _ *http.Request, id *Identity) error {
	resp := whoamiResponse{
		UserID: id.User.ID, Login: id.User.Login, Tier: id.Tier,
		Credential: id.Credential, Scopes: id.Scopes,
	}
	if resp.Scopes == nil {
		resp.Scopes = []string{}
	}
	switch {
	case id.PAT != nil:
		resp.TokenID, resp.TokenName, resp.TokenHint = id.PAT.ID, id.PAT.Name, id.PAT.Hint
		if !id.PAT.ExpiresAt.IsZero() {
			resp.ExpiresAt = &id.PAT.ExpiresAt
			w.Header().Set(headerTokenExpiration, expirationHeader(id.PAT.ExpiresAt))
		}
	case id.Session != nil:
		resp.SessionID = id.Session.ID
		resp.ExpiresAt = &id.Session.ExpiresAt
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}
