package adminapi

import (
	"net/http"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
)

// Users, their passwords, second factors and sessions: every change is
// made as the admin actor (authstore.AdminActor) and audited as such.

func (a *server) users(*http.Request) (any, error) { return a.svc().Users() }

func (a *server) createUser(_ *http.Request, req api.CreateUserRequest) (any, error) {
	return a.svc().CreateUser(req, authstore.AdminActor)
}

func (a *server) setDisabled(disabled bool) operation {
	return func(r *http.Request) (any, error) {
		return a.svc().SetDisabled(r.PathValue("login"), disabled, authstore.AdminActor)
	}
}

func (a *server) setTier(r *http.Request, req api.SetTierRequest) (any, error) {
	return a.svc().SetTier(r.PathValue("login"), req.Tier, authstore.AdminActor)
}

// setPassword takes a hash, never a password: the command hashes it on
// the operator's side, so no password crosses the admin API.
func (a *server) setPassword(r *http.Request, req api.SetPasswordRequest) (any, error) {
	return a.svc().SetPassword(r.PathValue("login"), req.PasswordHash, authstore.AdminActor)
}

func (a *server) enableTOTP(r *http.Request) (any, error) {
	return a.svc().EnableTOTP(r.PathValue("login"), authstore.AdminActor)
}

func (a *server) disableTOTP(r *http.Request) (any, error) {
	return a.svc().DisableTOTP(r.PathValue("login"), authstore.AdminActor)
}

func (a *server) sessions(r *http.Request) (any, error) {
	return a.svc().Sessions(r.URL.Query().Get("user"))
}

func (a *server) revokeSession(r *http.Request) (any, error) {
	return a.svc().RevokeSession(r.PathValue("id"))
}

func (a *server) revokeUserSessions(r *http.Request) (any, error) {
	return a.svc().RevokeUserSessions(r.PathValue("login"))
}

// members lists every membership, by user, type and name, or one user's
// (?user=<login>).
func (a *server) members(r *http.Request) (any, error) {
	return a.svc().Members(r.URL.Query().Get("user"))
}

func (a *server) setMember(_ *http.Request, req api.MembershipRequest) (any, error) {
	return a.svc().SetMembership(req, authstore.AdminActor)
}

func (a *server) removeMember(_ *http.Request, req api.MembershipRequest) (any, error) {
	return a.svc().RemoveMembership(req, authstore.AdminActor)
}
