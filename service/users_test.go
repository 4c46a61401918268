package service

import (
	"errors"
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/problem"
)

func TestCreateUser(t *testing.T) {
	t.Parallel()
	s := newTestService(t, testGlobal())
	mustUser(t, s, "taken", nil, nil)
	for _, tc := range []struct {
		name string
		req  api.CreateUserRequest
		err  error
		kind problem.Kind
		want func(api.UserInfo) bool
	}{
		{"default tier, every scope", api.CreateUserRequest{Login: "alice"}, nil, 0, func(u api.UserInfo) bool {
			return u.Login == "alice" && u.Tier == "free" && u.AllScopes && len(u.Scopes) == 3 && !u.Disabled && !u.Password && !u.TOTP
		}},
		{"tier and scopes", api.CreateUserRequest{Login: "bob", Tier: "pro", Scopes: []string{"wiki:read"}}, nil, 0, func(u api.UserInfo) bool {
			return u.Tier == "pro" && !u.AllScopes && slices.Equal(u.Scopes, []string{"wiki:read"})
		}},
		{"bad login", api.CreateUserRequest{Login: "has space"}, nil, problem.KindInvalid, nil},
		{"unknown tier", api.CreateUserRequest{Login: "carol", Tier: "gold"}, nil, problem.KindInvalid, nil},
		{"unknown scope", api.CreateUserRequest{Login: "dave", Scopes: []string{"admin:all"}}, nil, problem.KindInvalid, nil},
		{"taken", api.CreateUserRequest{Login: "taken"}, authstore.ErrExists, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u, err := s.CreateUser(tc.req, authstore.AdminActor)
			switch {
			case tc.err != nil:
				if !errors.Is(err, tc.err) {
					t.Errorf("error %v, want %v", err, tc.err)
				}
			case tc.kind != 0:
				wantKind(t, err, tc.kind)
			case err != nil:
				t.Fatal(err)
			case !tc.want(u):
				t.Errorf("created %+v", u)
			}
		})
	}
	t.Cleanup(func() { // after the parallel subtests
		list, err := s.Users()
		if err != nil || len(list) != 3 {
			t.Errorf("Users: %d %v", len(list), err)
		}
	})
}

func TestSetDisabledAndTier(t *testing.T) {
	t.Parallel()
	s := newTestService(t, testGlobal())
	mustUser(t, s, "alice", nil, nil)
	u, err := s.SetDisabled("alice", true, authstore.AdminActor)
	if err != nil || !u.Disabled {
		t.Errorf("disable: %+v %v", u, err)
	}
	if u, err = s.SetDisabled("alice", false, authstore.AdminActor); err != nil || u.Disabled {
		t.Errorf("enable: %+v %v", u, err)
	}
	if _, err := s.SetDisabled("ghost", true, authstore.AdminActor); !errors.Is(err, authstore.ErrNotFound) {
		t.Errorf("disable a missing user: %v", err)
	}
	if u, err = s.SetTier("alice", "pro", authstore.AdminActor); err != nil || u.Tier != "pro" {
		t.Errorf("tier: %+v %v", u, err)
	}
	_, err = s.SetTier("alice", "gold", authstore.AdminActor)
	wantKind(t, err, problem.KindInvalid)
	if _, err := s.SetTier("ghost", "pro", authstore.AdminActor); !errors.Is(err, authstore.ErrNotFound) {
		t.Errorf("tier of a missing user: %v", err)
	}
	if stored, _ := s.Store.UserByLogin("alice"); stored.Tier != "pro" || stored.Disabled {
		t.Errorf("stored %+v", stored)
	}
}
