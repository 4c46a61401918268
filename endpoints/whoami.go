package endpoints

import (
	"net/http"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/decision"
	"github.com/gatehouse/gatehouse/problem"
)

// serveWhoami answers GET /api/whoami for any credential.
func (s *Site) serveWhoami(w http.ResponseWriter, _ *http.Request, id *decision.Identity) error {
	resp := api.Whoami{
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
			resp.ExpiresAt = id.PAT.ExpiresAt
			w.Header().Set(api.HeaderTokenExpiration, api.FormatExpiration(id.PAT.ExpiresAt))
		}
	case id.Session != nil:
		resp.SessionID = id.Session.ID
		resp.ExpiresAt = id.Session.ExpiresAt
	}
	problem.WriteJSON(w, http.StatusOK, resp)
	return nil
}
