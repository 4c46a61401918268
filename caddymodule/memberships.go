package caddymodule

import (
	"errors"
	"fmt"
	"net/http"
	"slices"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/problem"
)

func init() {
	adminRoutes = append(adminRoutes,
		adminRoute{"GET /gatehouse/members", func(a *App) func(http.ResponseWriter, *http.Request) error { return a.adminListMembers }},
		adminRoute{"PUT /gatehouse/members", func(a *App) func(http.ResponseWriter, *http.Request) error { return a.adminSetMember }},
		adminRoute{"DELETE /gatehouse/members", func(a *App) func(http.ResponseWriter, *http.Request) error { return a.adminRemoveMember }},
	)
}

// viewMembers lists u's memberships as the admin API shows them.
func (a *App) viewMembers(u *authstore.User) []api.Membership {
	list := u.MembershipList()
	out := make([]api.Membership, 0, len(list))
	for _, m := range list {
		out = append(out, api.Membership{
			User: u.Login, Type: m.Type, Name: m.Name, Role: m.Role,
			Resource: authstore.ResourceKey(m.Type, m.Name),
			Declared: a.policy.CheckRoleName(m.Type, m.Role) == nil,
		})
	}
	return out
}

// adminListMembers answers GET /gatehouse/members[?user=<login>]: every
// membership, by user, type and name.
func (a *App) adminListMembers(w http.ResponseWriter, r *http.Request) error {
	var users []*authstore.User
	if login := r.URL.Query().Get("user"); login != "" {
		u, err := a.store.UserByLogin(login)
		if err != nil {
			return err
		}
		users = []*authstore.User{u}
	} else {
		var err error
		if users, err = a.store.Users(); err != nil {
			return err
		}
	}
	out := []api.Membership{}
	for _, u := range users {
		out = append(out, a.viewMembers(u)...)
	}
	problem.WriteJSON(w, http.StatusOK, out)
	return nil
}

// adminSetMember answers PUT /gatehouse/members: gives a user a role on a
// resource, replacing the role held there. The user must exist and the
// type and role be declared; nothing is written otherwise.
func (a *App) adminSetMember(w http.ResponseWriter, r *http.Request) error {
	var req api.MembershipRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	u, err := a.store.UserByLogin(req.User)
	if err != nil {
		return err
	}
	if err := a.policy.CheckRoleName(req.Type, req.Role); err != nil {
		return badInput("%v", err)
	}
	if err := authstore.ValidateResourceName(req.Name); err != nil {
		return badInput("%v", err)
	}
	u, prev, err := a.store.SetMembership(u.Login, req.Type, req.Name, req.Role, authstore.AdminActor)
	if err != nil {
		return err
	}
	resource := authstore.ResourceKey(req.Type, req.Name)
	a.logger.Info("membership set", zap.String("user", u.Login), zap.String("resource", resource),
		zap.String("role", req.Role), zap.String("previous", prev))
	problem.WriteJSON(w, http.StatusOK, api.MembershipChange{User: u.Login, Type: req.Type, Name: req.Name, Resource: resource, Role: req.Role, Previous: prev})
	return nil
}

// adminRemoveMember answers DELETE /gatehouse/members. A membership of a
// type the configuration no longer declares can still be removed, so
// stale ones can be cleaned up.
func (a *App) adminRemoveMember(w http.ResponseWriter, r *http.Request) error {
	var req api.MembershipRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if req.Role != "" {
		return badInput("a removal takes no role")
	}
	u, err := a.store.UserByLogin(req.User)
	if err != nil {
		return err
	}
	resource := authstore.ResourceKey(req.Type, req.Name)
	if _, held := u.Memberships[resource]; !held {
		if _, declared := a.policy.Resources[req.Type]; !declared {
			return badInput("%v", a.policy.CheckRoleName(req.Type, ""))
		}
		return requestError{status: http.StatusNotFound, err: fmt.Errorf("%s has no membership on %s", u.Login, resource)}
	}
	u, prev, err := a.store.RemoveMembership(u.Login, req.Type, req.Name, authstore.AdminActor)
	if errors.Is(err, authstore.ErrNotFound) {
		return requestError{status: http.StatusNotFound, err: fmt.Errorf("%s has no membership on %s", req.User, resource)}
	}
	if err != nil {
		return err
	}
	a.logger.Info("membership removed", zap.String("user", u.Login), zap.String("resource", resource), zap.String("previous", prev))
	problem.WriteJSON(w, http.StatusOK, api.MembershipChange{User: u.Login, Type: req.Type, Name: req.Name, Resource: resource, Previous: prev})
	return nil
}

// checkResourceCap validates one token cap: a "type:name" key of a
// declared type and a valid name, and a role that type declares.
func (a *App) checkResourceCap(key, role string) error {
	typ, _, err := authstore.SplitResourceKey(key)
	if err != nil {
		return err
	}
	if err := a.policy.CheckRoleName(typ, role); err != nil {
		return fmt.Errorf("resource %q: %w", key, err)
	}
	return nil
}

// resourceChoice is one resource a PAT form offers to cap: the user's
// current role there and the caps they may choose, lowest first, up to
// that role.
type resourceChoice struct {
	Resource string   `json:"resource"` // the cap's key, "project:atlas"
	Type     string   `json:"type"`
	Name     string   `json:"name"`
	Role     string   `json:"role"`
	Roles    []string `json:"roles"`
}

// resourceChoices lists what the PAT page, the PAT API and the device
// approval form offer besides "all resources at my role": each resource u
// holds a declared role on, with the caps up to that role. Resources u has
// no role on are not offered.
func (a *App) resourceChoices(u *authstore.User) []resourceChoice {
	out := []resourceChoice{}
	for _, m := range u.MembershipList() {
		rt, ok := a.policy.Resources[m.Type]
		if !ok {
			continue
		}
		rank := rt.Rank(m.Role)
		if rank < 0 {
			continue
		}
		out = append(out, resourceChoice{
			Resource: authstore.ResourceKey(m.Type, m.Name), Type: m.Type, Name: m.Name,
			Role: m.Role, Roles: slices.Clone(rt.Roles[:rank+1]),
		})
	}
	return out
}

// checkCapsHeld refuses caps on a resource u holds no role on, or above
// the role held. Self-service forms (PAT page and API, device approval)
// call it after checkResourceCaps, so a user cannot ask for more than
// they hold today; the admin CLI does not, so an operator can prepare a
// token before a membership exists. Either way the request-time rule,
// min(cap, current membership), bounds every token.
func (a *App) checkCapsHeld(u *authstore.User, caps map[string]string) error {
	keys := make([]string, 0, len(caps))
	for k := range caps {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		typ, _, err := authstore.SplitResourceKey(key)
		if err != nil {
			return err
		}
		rt := a.policy.Resources[typ]
		held := u.Memberships[key]
		switch {
		case held == "" || rt.Rank(held) < 0:
			return fmt.Errorf("resource %s: you have no role on it", key)
		case rt.Rank(caps[key]) > rt.Rank(held):
			return fmt.Errorf("resource %s: cap %s is above your role %s", key, caps[key], held)
		}
	}
	return nil
}
