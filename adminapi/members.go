package adminapi

import (
	"net/http"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/problem"
)

// adminListMembers answers GET /gatehouse/members[?user=<login>]: every
// membership, by user, type and name.
func (a *server) adminListMembers(w http.ResponseWriter, r *http.Request) error {
	out, err := a.svc().Members(r.URL.Query().Get("user"))
	if err != nil {
		return err
	}
	problem.WriteJSON(w, http.StatusOK, out)
	return nil
}

// adminSetMember answers PUT /gatehouse/members (service.SetMembership).
func (a *server) adminSetMember(w http.ResponseWriter, r *http.Request) error {
	var req api.MembershipRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	change, err := a.svc().SetMembership(req, authstore.AdminActor)
	if err != nil {
		return err
	}
	problem.WriteJSON(w, http.StatusOK, change)
	return nil
}

// adminRemoveMember answers DELETE /gatehouse/members
// (service.RemoveMembership).
func (a *server) adminRemoveMember(w http.ResponseWriter, r *http.Request) error {
	var req api.MembershipRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	change, err := a.svc().RemoveMembership(req, authstore.AdminActor)
	if err != nil {
		return err
	}
	problem.WriteJSON(w, http.StatusOK, change)
	return nil
}
