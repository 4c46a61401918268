package service

import (
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/problem"
)

func TestMembers(t *testing.T) {
	t.Parallel()
	s := newTestService(t, testGlobal())
	mustUser(t, s, "alice", nil, map[string]string{"project:b": "edit", "project:a": "read"})
	mustUser(t, s, "bob", nil, map[string]string{"project:a": "manage"})
	mustUser(t, s, "carol", nil, nil)
	// A role the configuration has since dropped is listed, undeclared.
	if _, _, err := s.Store.SetMembership("carol", "team", "x", "member", authstore.AdminActor); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		login string
		want  []string // user resource role declared
		err   error
	}{
		{"", []string{"alice project:a read true", "alice project:b edit true", "bob project:a manage true", "carol team:x member false"}, nil},
		{"alice", []string{"alice project:a read true", "alice project:b edit true"}, nil},
		{"ghost", nil, authstore.ErrNotFound},
	} {
		t.Run(tc.login, func(t *testing.T) {
			t.Parallel()
			list, err := s.Members(tc.login)
			if !errors.Is(err, tc.err) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			var got []string
			for _, m := range list {
				if m.Resource != m.Type+":"+m.Name {
					t.Errorf("resource %q of %+v", m.Resource, m)
				}
				got = append(got, strings.Join([]string{m.User, m.Resource, m.Role, map[bool]string{true: "true", false: "false"}[m.Declared]}, " "))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("members\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
	if list, err := s.Members("carol"); err != nil || list == nil {
		t.Errorf("a user's list is never nil: %#v %v", list, err)
	}
}

func TestSetMembership(t *testing.T) {
	t.Parallel()
	s := newTestService(t, testGlobal())
	mustUser(t, s, "alice", nil, nil)
	for _, tc := range []struct {
		name string
		req  api.MembershipRequest
		err  error
		kind problem.Kind
	}{
		{"unknown user", api.MembershipRequest{User: "ghost", Type: "project", Name: "a", Role: "read"}, authstore.ErrNotFound, 0},
		{"undeclared type", api.MembershipRequest{User: "alice", Type: "team", Name: "a", Role: "read"}, nil, problem.KindInvalid},
		{"undeclared role", api.MembershipRequest{User: "alice", Type: "project", Name: "a", Role: "owner"}, nil, problem.KindInvalid},
		{"bad name", api.MembershipRequest{User: "alice", Type: "project", Name: "a/b", Role: "read"}, nil, problem.KindInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := s.SetMembership(tc.req, authstore.AdminActor)
			if tc.err != nil && !errors.Is(err, tc.err) {
				t.Errorf("error %v, want %v", err, tc.err)
			}
			if tc.kind != 0 {
				wantKind(t, err, tc.kind)
			}
		})
	}
	for _, step := range []struct{ role, prev string }{{"read", ""}, {"manage", "read"}, {"manage", "manage"}} {
		c, err := s.SetMembership(api.MembershipRequest{User: "alice", Type: "project", Name: "atlas", Role: step.role}, authstore.AdminActor)
		if err != nil || c.User != "alice" || c.Resource != "project:atlas" || c.Role != step.role || c.Previous != step.prev {
			t.Errorf("set %s: %+v %v", step.role, c, err)
		}
	}
	if u, _ := s.Store.UserByLogin("alice"); u.Memberships["project:atlas"] != "manage" {
		t.Errorf("stored %v", u.Memberships)
	}
}

func TestRemoveMembership(t *testing.T) {
	t.Parallel()
	s := newTestService(t, testGlobal())
	mustUser(t, s, "alice", nil, map[string]string{"project:atlas": "edit"})
	if _, _, err := s.Store.SetMembership("alice", "team", "x", "member", authstore.AdminActor); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		req  api.MembershipRequest
		err  error
		kind problem.Kind
		msg  string
	}{
		{"a role given", api.MembershipRequest{User: "alice", Type: "project", Name: "atlas", Role: "edit"}, nil, problem.KindInvalid, "a removal takes no role"},
		{"unknown user", api.MembershipRequest{User: "ghost", Type: "project", Name: "atlas"}, authstore.ErrNotFound, 0, ""},
		{"undeclared type not held", api.MembershipRequest{User: "alice", Type: "galaxy", Name: "x"}, nil, problem.KindInvalid, "galaxy"},
		{"not held", api.MembershipRequest{User: "alice", Type: "project", Name: "zoo"}, nil, problem.KindNotFound, "alice has no membership on project:zoo"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := s.RemoveMembership(tc.req, authstore.AdminActor)
			if tc.err != nil && !errors.Is(err, tc.err) {
				t.Errorf("error %v, want %v", err, tc.err)
			}
			if tc.kind != 0 {
				wantKind(t, err, tc.kind)
			}
			if err != nil && !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("message %q does not say %q", err, tc.msg)
			}
		})
	}
	t.Run("held", func(t *testing.T) {
		t.Parallel()
		c, err := s.RemoveMembership(api.MembershipRequest{User: "alice", Type: "project", Name: "atlas"}, authstore.AdminActor)
		if err != nil || c.Resource != "project:atlas" || c.Previous != "edit" || c.Role != "" {
			t.Errorf("%+v %v", c, err)
		}
	})
	t.Run("a stale membership of a type no longer declared", func(t *testing.T) {
		t.Parallel()
		c, err := s.RemoveMembership(api.MembershipRequest{User: "alice", Type: "team", Name: "x"}, authstore.AdminActor)
		if err != nil || c.Previous != "member" {
			t.Errorf("%+v %v", c, err)
		}
	})
}

func TestMembershipsOfAConfigWithoutResources(t *testing.T) {
	t.Parallel()
	s := newTestService(t, config.Global{Scopes: []string{"wiki:read"}})
	mustUser(t, s, "alice", nil, nil)
	_, err := s.SetMembership(api.MembershipRequest{User: "alice", Type: "project", Name: "a", Role: "read"}, authstore.AdminActor)
	wantKind(t, err, problem.KindInvalid)
}
