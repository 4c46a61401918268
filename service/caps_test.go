package service

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/problem"
)

func capsService(t *testing.T) *Service {
	t.Helper()
	return newTestService(t, config.Global{
		Scopes:    []string{"papers:read", "papers:write"},
		Resources: []config.ResourceType{{Name: "project", Roles: []string{"read", "edit", "manage"}}},
	})
}

// capsUser holds two declared roles, one role the configuration no
// longer declares, and one of an undeclared type.
var capsUser = &authstore.User{Login: "alice", Memberships: map[string]string{
	"project:atlas": "edit", "project:zoo": "read", "project:old": "owner", "team:x": "member",
}}

func TestResourceChoices(t *testing.T) {
	t.Parallel()
	s := capsService(t)
	got := s.ResourceChoices(capsUser)
	if len(got) != 2 || got[0].Resource != "project:atlas" || strings.Join(got[0].Roles, ",") != "read,edit" ||
		got[0].Type != "project" || got[0].Name != "atlas" || got[0].Role != "edit" ||
		got[1].Resource != "project:zoo" || strings.Join(got[1].Roles, ",") != "read" {
		t.Errorf("choices %+v", got)
	}
	if got := s.ResourceChoices(&authstore.User{Login: "bob"}); got == nil || len(got) != 0 {
		t.Errorf("no memberships: %#v, want an empty list", got)
	}
}

func TestCheckCapsHeld(t *testing.T) {
	t.Parallel()
	s := capsService(t)
	for _, tc := range []struct {
		caps map[string]string
		ok   bool
	}{
		{nil, true},
		{map[string]string{}, true},
		{map[string]string{"project:atlas": "edit", "project:zoo": "read"}, true},
		{map[string]string{"project:atlas": "read"}, true},
		{map[string]string{"project:atlas": "manage"}, false},
		{map[string]string{"project:mars": "read"}, false},
		{map[string]string{"project:old": "read"}, false},
		{map[string]string{"atlas": "read"}, false},
	} {
		if err := s.CheckCapsHeld(capsUser, tc.caps); (err == nil) != tc.ok {
			t.Errorf("%v: %v", tc.caps, err)
		}
	}
}

func TestCheckResourceCaps(t *testing.T) {
	t.Parallel()
	s := capsService(t)
	for _, tc := range []struct {
		caps map[string]string
		ok   bool
	}{
		{map[string]string{"project:atlas": "edit"}, true},
		{map[string]string{"project:été": "read"}, true},
		{map[string]string{"project:a/b": "read"}, false},
		{map[string]string{"project:": "read"}, false},
		{map[string]string{"team:x": "read"}, false},
		{map[string]string{"project:x": "owner"}, false},
		{map[string]string{"atlas": "read"}, false},
	} {
		if err := s.CheckResourceCaps(tc.caps); (err == nil) != tc.ok {
			t.Errorf("CheckResourceCaps(%v): %v", tc.caps, err)
		}
	}
	// The first error in key order, every time.
	caps := map[string]string{"project:b": "owner", "project:a": "owner", "project:c": "owner"}
	for range 5 {
		if err := s.CheckResourceCaps(caps); err == nil || !strings.Contains(err.Error(), `"project:a"`) {
			t.Fatalf("error %v does not name project:a", err)
		}
	}
}

func TestSelfServiceCaps(t *testing.T) {
	t.Parallel()
	s := capsService(t)
	for _, tc := range []struct {
		name string
		caps map[string]string
		kind problem.Kind
		msg  string
	}{
		{"every resource at my role", nil, 0, ""},
		{"held", map[string]string{"project:atlas": "read"}, 0, ""},
		{"undeclared role", map[string]string{"project:atlas": "owner"}, problem.KindInvalid, "project:atlas"},
		{"above the role held", map[string]string{"project:atlas": "manage"}, problem.KindInvalid, "cap manage is above your role edit"},
		{"not held", map[string]string{"project:mars": "read"}, problem.KindInvalid, "you have no role on it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := s.SelfServiceCaps(capsUser, tc.caps)
			wantKind(t, err, tc.kind)
			if err != nil && !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("message %q does not say %q", err, tc.msg)
			}
			// The PAT API answers it as a 400 with the message.
			if p := problem.From(err, problem.API); err != nil && (p.Status != 400 || p.Code != "invalid_request" || p.Reason != "pat_invalid" || p.Message != err.Error()) {
				t.Errorf("answer %+v", p)
			}
		})
	}
}
