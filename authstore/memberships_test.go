package authstore

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestValidateResourceName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"atlas", true},
		{"Atlas", true},
		{"été", true},
		{"日本語", true},
		{"a b", true},
		{"a:b", true},
		{"a%2Fb", true}, // a literal percent sign is data
		{"a.b", true},
		{strings.Repeat("x", MaxResourceNameLen), true},
		{strings.Repeat("é", MaxResourceNameLen/2), true},
		{"", false},
		{strings.Repeat("x", MaxResourceNameLen+1), false},
		{strings.Repeat("é", MaxResourceNameLen/2) + "x", false},
		{"a/b", false},
		{"/", false},
		{"a\x00b", false},
		{"a\nb", false},
		{"a\tb", false},
		{"a\x7fb", false},
		{"a\u0085b", false}, // C1 control
		{"a\u202eb", false}, // right-to-left override
		{"a\u200bb", false}, // zero-width space
		{"a\u2028b", false}, // line separator
		{"\xff", false},
		{".", false},
		{"..", false},
		{"...", true},
	} {
		if err := ValidateResourceName(tc.name); (err == nil) != tc.ok {
			t.Errorf("ValidateResourceName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestSplitResourceKey(t *testing.T) {
	typ, name, err := SplitResourceKey("project:atlas:v2")
	if err != nil || typ != "project" || name != "atlas:v2" {
		t.Errorf("%q %q %v", typ, name, err)
	}
	for _, bad := range []string{"atlas", "Project:atlas", ":atlas", "project:", "project:a/b"} {
		if _, _, err := SplitResourceKey(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestMemberships(t *testing.T) {
	s, _ := openTest(t, Options{})
	alice := mustUser(t, s, "alice")

	u, prev, err := s.SetMembership("Alice", "project", "atlas", "edit", AdminActor)
	if err != nil || prev != "" || u.Memberships["project:atlas"] != "edit" {
		t.Fatalf("set: %v %q %v", u, prev, err)
	}
	if _, prev, err = s.SetMembership("alice", "project", "été", "read", AdminActor); err != nil || prev != "" {
		t.Fatalf("set unicode: %q %v", prev, err)
	}
	u, prev, err = s.SetMembership("alice", "project", "atlas", "read", AdminActor)
	if err != nil || prev != "edit" || u.Memberships["project:atlas"] != "read" {
		t.Fatalf("downgrade: %v %q %v", u.Memberships, prev, err)
	}
	// Setting the same role again writes nothing and is not an error.
	before, _ := s.Audit(alice.ID, 0)
	if u, prev, err = s.SetMembership("alice", "project", "atlas", "read", AdminActor); err != nil || prev != "read" || u.Memberships["project:atlas"] != "read" {
		t.Fatalf("same role: %v %q %v", u, prev, err)
	}
	after, _ := s.Audit(alice.ID, 0)
	if len(after) != len(before) {
		t.Errorf("an unchanged membership was audited")
	}

	list := u.MembershipList()
	if len(list) != 2 || list[0] != (Membership{"project", "atlas", "read"}) || list[1] != (Membership{"project", "été", "read"}) {
		t.Errorf("list %v", list)
	}

	u, prev, err = s.RemoveMembership("alice", "project", "atlas", AdminActor)
	if err != nil || prev != "read" || len(u.Memberships) != 1 {
		t.Fatalf("remove: %v %q %v", u.Memberships, prev, err)
	}
	if _, _, err = s.RemoveMembership("alice", "project", "atlas", AdminActor); !errors.Is(err, ErrNotFound) {
		t.Errorf("removing twice: %v", err)
	}
	u, _, err = s.RemoveMembership("alice", "project", "été", AdminActor)
	if err != nil || u.Memberships != nil {
		t.Errorf("last removal leaves %v %v", u.Memberships, err)
	}

	events, _ := s.Audit(alice.ID, 0)
	var details []string
	for _, e := range events {
		if e.Action == ActionMembershipChange {
			details = append(details, e.Detail)
		}
	}
	want := []string{"project:été removed (was read)", "project:atlas removed (was read)", "project:atlas read (was edit)", "project:été read (new)", "project:atlas edit (new)"}
	if strings.Join(details, "|") != strings.Join(want, "|") {
		t.Errorf("audit %q, want %q", details, want)
	}
}

func TestMembershipWritesRefuseBadInput(t *testing.T) {
	s, _ := openTest(t, Options{})
	mustUser(t, s, "alice")
	for _, tc := range []struct{ login, typ, name, role string }{
		{"bob", "project", "atlas", "edit"},
		{"alice", "Project", "atlas", "edit"},
		{"alice", "project", "a/b", "edit"},
		{"alice", "project", "", "edit"},
		{"alice", "project", "a\nb", "edit"},
		{"alice", "project", "atlas", "Edit"},
		{"alice", "project", "atlas", ""},
	} {
		if _, _, err := s.SetMembership(tc.login, tc.typ, tc.name, tc.role, AdminActor); err == nil {
			t.Errorf("%+v accepted", tc)
		}
	}
	if _, _, err := s.RemoveMembership("bob", "project", "atlas", AdminActor); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown user: %v", err)
	}
	u, _ := s.UserByLogin("alice")
	if u.Memberships != nil {
		t.Errorf("bad input was written: %v", u.Memberships)
	}
	events, _ := s.Audit(u.ID, 0)
	for _, e := range events {
		if e.Action == ActionMembershipChange {
			t.Errorf("bad input was audited: %+v", e)
		}
	}
}

// TestMembershipChangeIsSeenAtOnce: the user record a verified token
// carries reflects a membership change on the very next verification.
func TestMembershipChangeIsSeenAtOnce(t *testing.T) {
	s, _ := openTest(t, Options{})
	alice := mustUser(t, s, "alice")
	tok, _ := mustPAT(t, s, alice, time.Now().Add(time.Hour), "wiki:read")
	s.SetMembership("alice", "project", "atlas", "manage", AdminActor)
	if _, u, _ := s.VerifyPAT(tok, ""); u.Memberships["project:atlas"] != "manage" {
		t.Fatalf("before: %v", u.Memberships)
	}
	s.SetMembership("alice", "project", "atlas", "read", AdminActor)
	if _, u, _ := s.VerifyPAT(tok, ""); u.Memberships["project:atlas"] != "read" {
		t.Errorf("after downgrade: %v", u.Memberships)
	}
	s.RemoveMembership("alice", "project", "atlas", AdminActor)
	if _, u, _ := s.VerifyPAT(tok, ""); u.Memberships != nil {
		t.Errorf("after removal: %v", u.Memberships)
	}
}

// TestResourceCapsRoundTrip: nil caps (all resources) and empty caps (no
// resource) must not be confused once stored; an empty map read back as
// nil would widen a token to every resource.
func TestResourceCapsRoundTrip(t *testing.T) {
	s, path := openTest(t, Options{})
	alice := mustUser(t, s, "alice")
	mint := func(caps map[string]string) string {
		tok, _, err := s.CreatePAT(NewPAT{UserID: alice.ID, Prefix: "gth_", Name: "t", Scopes: []string{"wiki:read"}, ResourceCaps: caps, ExpiresAt: time.Now().Add(time.Hour), CreatedVia: ViaAdmin}, AdminActor)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	all, none, some := mint(nil), mint(map[string]string{}), mint(map[string]string{"project:atlas": "read"})
	s.Close()
	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	for _, tc := range []struct {
		tok     string
		isNil   bool
		entries int
	}{{all, true, 0}, {none, false, 0}, {some, false, 1}} {
		p, _, err := s2.VerifyPAT(tc.tok, "")
		if err != nil {
			t.Fatal(err)
		}
		if (p.ResourceCaps == nil) != tc.isNil || len(p.ResourceCaps) != tc.entries {
			t.Errorf("caps read back as %#v, want nil=%v with %d entries", p.ResourceCaps, tc.isNil, tc.entries)
		}
	}
}
