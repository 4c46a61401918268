package authstore

import (
	"errors"
	"strings"
	"testing"
)

func TestExternalUserLifecycle(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t, Options{})
	alice := mustUser(t, s, "alice")
	mustUser(t, s, "alice-2")

	// A first sign-in whose username is taken gets the next free login,
	// never the existing account.
	u, err := s.CreateExternalUser(NewUser{Login: "alice", Tier: "free"}, "corp", "sub-1", AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	if u.Login != "alice-3" || u.ID == alice.ID || u.Kind != KindHuman {
		t.Fatalf("created %+v, want a new human account alice-3", u)
	}
	got, err := s.UserByIdentity("corp", "sub-1")
	if err != nil || got.ID != u.ID {
		t.Fatalf("UserByIdentity = %v, %v; want %s", got, err, u.ID)
	}
	// The same subject at another provider is someone else.
	if _, err := s.UserByIdentity("github", "sub-1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("other provider: %v, want ErrNotFound", err)
	}
	if _, err := s.CreateExternalUser(NewUser{Login: "x", Tier: "free"}, "corp", "sub-1", AdminActor); !errors.Is(err, ErrExists) {
		t.Fatalf("second create of one subject: %v, want ErrExists", err)
	}

	// The operator links a local account explicitly.
	if _, err := s.LinkIdentity("alice", "github", "42", AdminActor); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LinkIdentity("alice", "github", "42", AdminActor); err != nil {
		t.Fatalf("linking again to the same account: %v", err)
	}
	if _, err := s.LinkIdentity("alice-2", "github", "42", AdminActor); !errors.Is(err, ErrExists) {
		t.Fatalf("stealing a link: %v, want ErrExists", err)
	}
	if _, err := s.LinkIdentity("nobody", "github", "43", AdminActor); !errors.Is(err, ErrNotFound) {
		t.Fatalf("link to unknown login: %v, want ErrNotFound", err)
	}
	links, err := s.Identities(alice.ID)
	if err != nil || len(links) != 1 || links[0].Provider != "github" || links[0].Subject != "42" {
		t.Fatalf("Identities(alice) = %+v, %v", links, err)
	}
	all, err := s.Identities("")
	if err != nil || len(all) != 2 {
		t.Fatalf("Identities() = %+v, %v; want 2", all, err)
	}

	// A disabled account stays out.
	if _, err := s.UpdateUser("alice", AdminActor, "disabled", func(u *User) error { u.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UserByIdentity("github", "42"); !errors.Is(err, ErrUserDisabled) {
		t.Fatalf("disabled: %v, want ErrUserDisabled", err)
	}

	if err := s.UnlinkIdentity("github", "42", AdminActor); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UserByIdentity("github", "42"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after unlink: %v, want ErrNotFound", err)
	}
	if links, _ := s.Identities(alice.ID); len(links) != 0 {
		t.Fatalf("after unlink alice has %+v", links)
	}
	if err := s.UnlinkIdentity("github", "42", AdminActor); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unlink twice: %v, want ErrNotFound", err)
	}
}

func TestExternalUserLogins(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t, Options{})
	mustUser(t, s, strings.Repeat("a", 64))
	for _, tc := range []struct{ login, want, sub string }{
		{"admin", "admin-2", "s1"}, // reserved: never handed out by a provider
		{strings.Repeat("a", 64), strings.Repeat("a", 62) + "-2", "s2"},
	} {
		u, err := s.CreateExternalUser(NewUser{Login: tc.login, Tier: "free"}, "corp", tc.sub, AdminActor)
		if err != nil {
			t.Fatal(err)
		}
		if u.Login != tc.want {
			t.Errorf("login for %q = %q, want %q", tc.login, u.Login, tc.want)
		}
	}
	for _, tc := range []struct{ provider, subject string }{
		{"", "s"}, {"a|b", "s"}, {"corp", ""}, {"corp", "a\nb"}, {"corp", strings.Repeat("x", 256)},
	} {
		if _, err := s.CreateExternalUser(NewUser{Login: "x", Tier: "free"}, tc.provider, tc.subject, AdminActor); !errors.Is(err, ErrBadIdentity) {
			t.Errorf("CreateExternalUser(%q, %q) = %v, want ErrBadIdentity", tc.provider, tc.subject, err)
		}
	}
	if n, _ := s.CountUsers(); n != 3 {
		t.Errorf("%d users, want 3 (refusals create nothing)", n)
	}
}
