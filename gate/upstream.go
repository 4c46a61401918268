package gate

import (
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/api"
)

// SetUpstreamHeaders hands the identity to the upstream as headers
// (api.Header*). Every request header in the Gatehouse namespace must
// have been deleted before (requestcheck), so none of these can come
// from the client. It returns the scopes as it sent them (space-separated),
// so a host that also publishes them elsewhere joins them once.
func SetUpstreamHeaders(h http.Header, id *Identity) (scopes string) {
	h.Set(api.HeaderCredential, id.Credential)
	h.Set(api.HeaderTier, id.Tier)
	if id.User == nil {
		return ""
	}
	scopes = strings.Join(id.Scopes, " ")
	h.Set(api.HeaderUserID, id.User.ID)
	h.Set(api.HeaderUser, id.User.Login)
	h.Set(api.HeaderScopes, scopes)
	if id.PAT != nil {
		h.Set(api.HeaderTokenID, id.PAT.ID)
	}
	if id.Resource != "" {
		h.Set(api.HeaderResource, id.Resource)
		h.Set(api.HeaderRole, id.Role)
	}
	return scopes
}
