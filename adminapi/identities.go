package adminapi

import (
	"net/http"

	"github.com/gatehouse/gatehouse/api"
)

// Identity provider links: the operator's explicit link of an account to
// a provider's subject (service.LinkIdentity), and their list.

// identities lists every link, or one user's (?user=<login>).
func (a *server) identities(r *http.Request) (any, error) {
	return a.svc().Identities(r.URL.Query().Get("user"))
}

func (a *server) linkIdentity(_ *http.Request, req api.IdentityLinkRequest) (any, error) {
	return a.svc().LinkIdentity(req)
}

func (a *server) unlinkIdentity(_ *http.Request, req api.IdentityLinkRequest) (any, error) {
	if err := a.svc().UnlinkIdentity(req); err != nil {
		return nil, err
	}
	return map[string]bool{"unlinked": true}, nil
}
