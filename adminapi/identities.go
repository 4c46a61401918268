package adminapi

import (
	"net/http"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/problem"
)

// adminListIdentities answers GET /gatehouse/identities[?user=<login>]:
// the external identities linked to accounts.
func (a *server) adminListIdentities(w http.ResponseWriter, r *http.Request) error {
	out, err := a.svc().Identities(r.URL.Query().Get("user"))
	if err != nil {
		return err
	}
	problem.WriteJSON(w, http.StatusOK, out)
	return nil
}

// adminLinkIdentity answers PUT /gatehouse/identities
// (service.LinkIdentity): the operator's explicit link of an account.
func (a *server) adminLinkIdentity(w http.ResponseWriter, r *http.Request) error {
	var req api.IdentityLinkRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	link, err := a.svc().LinkIdentity(req)
	if err != nil {
		return err
	}
	problem.WriteJSON(w, http.StatusOK, link)
	return nil
}

// adminUnlinkIdentity answers DELETE /gatehouse/identities
// (service.UnlinkIdentity).
func (a *server) adminUnlinkIdentity(w http.ResponseWriter, r *http.Request) error {
	var req api.IdentityLinkRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := a.svc().UnlinkIdentity(req); err != nil {
		return err
	}
	problem.WriteJSON(w, http.StatusOK, map[string]bool{"unlinked": true})
	return nil
}
