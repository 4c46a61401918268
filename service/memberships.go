package service

import (
	"errors"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/problem"
)

// Memberships: a user's role on a resource ("project atlas: edit").

// Members lists the memberships of the user with login, or of every user
// for "", by user, type and name.
func (s *Service) Members(login string) ([]api.Membership, error) {
	var users []*authstore.User
	if login != "" {
		u, err := s.Store.UserByLogin(login)
		if err != nil {
			return nil, err
		}
		users = []*authstore.User{u}
	} else {
		var err error
		if users, err = s.Store.Users(); err != nil {
			return nil, err
		}
	}
	out := []api.Membership{}
	for _, u := range users {
		out = append(out, s.viewMembers(u)...)
	}
	return out, nil
}

// viewMembers lists u's memberships as the admin API shows them;
// Declared says whether the configuration still declares the role.
func (s *Service) viewMembers(u *authstore.User) []api.Membership {
	list := u.MembershipList()
	out := make([]api.Membership, 0, len(list))
	for _, m := range list {
		out = append(out, api.Membership{
			User: u.Login, Type: m.Type, Name: m.Name, Role: m.Role,
			Resource: authstore.ResourceKey(m.Type, m.Name),
			Declared: s.Policy.CheckRoleName(m.Type, m.Role) == nil,
		})
	}
	return out
}

// SetMembership gives a user a role on a resource, replacing the role
// held there. The user must exist and the type and role be declared;
// nothing is written otherwise.
func (s *Service) SetMembership(req api.MembershipRequest, actor authstore.Actor) (api.MembershipChange, error) {
	u, err := s.Store.UserByLogin(req.User)
	if err != nil {
		return api.MembershipChange{}, err
	}
	if err := s.Policy.CheckRoleName(req.Type, req.Role); err != nil {
		return api.MembershipChange{}, badInput("%v", err)
	}
	if err := authstore.ValidateResourceName(req.Name); err != nil {
		return api.MembershipChange{}, badInput("%v", err)
	}
	u, prev, err := s.Store.SetMembership(u.Login, req.Type, req.Name, req.Role, actor)
	if err != nil {
		return api.MembershipChange{}, err
	}
	resource := authstore.ResourceKey(req.Type, req.Name)
	s.log().Info("membership set", zap.String("user", u.Login), zap.String("resource", resource),
		zap.String("role", req.Role), zap.String("previous", prev))
	return api.MembershipChange{User: u.Login, Type: req.Type, Name: req.Name, Resource: resource, Role: req.Role, Previous: prev}, nil
}

// RemoveMembership takes a user's role on a resource away. A membership
// of a type the configuration no longer declares can still be removed,
// so stale ones can be cleaned up.
func (s *Service) RemoveMembership(req api.MembershipRequest, actor authstore.Actor) (api.MembershipChange, error) {
	if req.Role != "" {
		return api.MembershipChange{}, badInput("a removal takes no role")
	}
	u, err := s.Store.UserByLogin(req.User)
	if err != nil {
		return api.MembershipChange{}, err
	}
	resource := authstore.ResourceKey(req.Type, req.Name)
	if _, held := u.Memberships[resource]; !held {
		if _, declared := s.Policy.Resources[req.Type]; !declared {
			return api.MembershipChange{}, badInput("%v", s.Policy.CheckRoleName(req.Type, ""))
		}
		return api.MembershipChange{}, problem.Errorf(problem.KindNotFound, "%s has no membership on %s", u.Login, resource)
	}
	u, prev, err := s.Store.RemoveMembership(u.Login, req.Type, req.Name, actor)
	if errors.Is(err, authstore.ErrNotFound) {
		return api.MembershipChange{}, problem.Errorf(problem.KindNotFound, "%s has no membership on %s", req.User, resource)
	}
	if err != nil {
		return api.MembershipChange{}, err
	}
	s.log().Info("membership removed", zap.String("user", u.Login), zap.String("resource", resource), zap.String("previous", prev))
	return api.MembershipChange{User: u.Login, Type: req.Type, Name: req.Name, Resource: resource, Previous: prev}, nil
}
