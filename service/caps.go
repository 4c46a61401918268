package service

import (
	"fmt"
	"slices"

	"github.com/gatehouse/gatehouse/authstore"
)

// Resource caps: what a PAT may do on each resource, at most.

// CheckResourceCaps validates "type:name" -> role caps against the
// declared resource types and the resource name rules, in key order so
// the first error is always the same one.
func (s *Service) CheckResourceCaps(caps map[string]string) error {
	for _, key := range sortedKeys(caps) {
		if err := s.checkResourceCap(key, caps[key]); err != nil {
			return err
		}
	}
	return nil
}

// checkResourceCap validates one token cap: a "type:name" key of a
// declared type and a valid name, and a role that type declares.
func (s *Service) checkResourceCap(key, role string) error {
	typ, _, err := authstore.SplitResourceKey(key)
	if err != nil {
		return err
	}
	if err := s.Policy.CheckRoleName(typ, role); err != nil {
		return fmt.Errorf("resource %q: %w", key, err)
	}
	return nil
}

// ResourceChoice is one resource a PAT form offers to cap: the user's
// current role there and the caps they may choose, lowest first, up to
// that role.
type ResourceChoice struct {
	Resource string // the cap's key, "project:atlas"
	Type     string
	Name     string
	Role     string
	Roles    []string
}

// ResourceChoices lists what the PAT page, the PAT API and the device
// approval form offer besides "all resources at my role": each resource u
// holds a declared role on, with the caps up to that role. Resources u has
// no role on are not offered.
func (s *Service) ResourceChoices(u *authstore.User) []ResourceChoice {
	out := []ResourceChoice{}
	for _, m := range u.MembershipList() {
		rt, ok := s.Policy.Resources[m.Type]
		if !ok {
			continue
		}
		rank := rt.Rank(m.Role)
		if rank < 0 {
			continue
		}
		out = append(out, ResourceChoice{
			Resource: authstore.ResourceKey(m.Type, m.Name), Type: m.Type, Name: m.Name,
			Role: m.Role, Roles: slices.Clone(rt.Roles[:rank+1]),
		})
	}
	return out
}

// CheckCapsHeld refuses caps on a resource u holds no role on, or above
// the role held. Self-service forms (PAT page and API, device approval)
// call it after CheckResourceCaps, so a user cannot ask for more than
// they hold today; the admin API does not, so an operator can prepare a
// token before a membership exists. Either way the request-time rule,
// min(cap, current membership), bounds every token.
func (s *Service) CheckCapsHeld(u *authstore.User, caps map[string]string) error {
	for _, key := range sortedKeys(caps) {
		typ, _, err := authstore.SplitResourceKey(key)
		if err != nil {
			return err
		}
		rt := s.Policy.Resources[typ]
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

// SelfServiceCaps checks the resource caps a user asks for on their own
// token: declared types and roles, and never above a role they hold now.
// nil (every resource at the user's role) needs no check. The error is a
// refusal (problem.KindInvalid).
func (s *Service) SelfServiceCaps(u *authstore.User, caps map[string]string) error {
	if caps == nil {
		return nil
	}
	if err := s.CheckResourceCaps(caps); err != nil {
		return badInput("%v", err)
	}
	if err := s.CheckCapsHeld(u, caps); err != nil {
		return badInput("%v", err)
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
