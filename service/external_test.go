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

func TestDeriveLogin(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"octocat":               "octocat",
		"Jane.Doe":              "jane.doe",
		"jane doe":              "jane-doe",
		"Zoë  Ångström":         "zo-ngstr-m",
		"--x--":                 "x",
		"":                      "user",
		"李雷":                    "user",
		"a\u202eb":              "a-b",
		strings.Repeat("a", 80): strings.Repeat("a", 60),
	} {
		got := DeriveLogin(in)
		if got != want {
			t.Errorf("DeriveLogin(%q) = %q, want %q", in, got, want)
		}
		if _, err := authstore.NormalizeLogin(got); err != nil {
			t.Errorf("DeriveLogin(%q) = %q, not a valid login: %v", in, got, err)
		}
	}
}

func TestSignInExternal(t *testing.T) {
	t.Parallel()
	g := testGlobal()
	g.IdentityProviders = []config.IdentityProvider{{Name: "corp", Type: config.ProviderOIDC, Issuer: "https://id.example.com",
		ClientID: "c", ClientSecret: "s", Scopes: []string{"wiki:read"}, Tier: "pro"}}
	s := newTestService(t, g)
	local := mustUser(t, s, "jane", nil, nil)

	u, err := s.SignInExternal(ExternalSignIn{Provider: "corp", Subject: "s-1", Username: "Jane", IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	if u.ID == local.ID || u.Login != "jane-2" || u.Tier != "pro" || len(u.Scopes) != 1 || u.Kind != authstore.KindHuman {
		t.Fatalf("new account %+v", u)
	}
	again, err := s.SignInExternal(ExternalSignIn{Provider: "corp", Subject: "s-1", Username: "someone-else"})
	if err != nil || again.ID != u.ID {
		t.Fatalf("second sign-in: %+v, %v", again, err)
	}
	if _, err := s.SignInExternal(ExternalSignIn{Provider: "gone", Subject: "s-1"}); problem.From(err, problem.Admin) == nil {
		t.Errorf("an unconfigured provider: %v", err)
	}

	// The operator links the local account; then it signs in.
	if _, err := s.LinkIdentity(api.IdentityLinkRequest{User: "jane", Provider: "corp", Subject: "s-2"}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.SignInExternal(ExternalSignIn{Provider: "corp", Subject: "s-2"}); err != nil || got.ID != local.ID {
		t.Fatalf("linked account: %+v, %v", got, err)
	}
	if _, err := s.LinkIdentity(api.IdentityLinkRequest{User: "jane", Provider: "a|b", Subject: "s-3"}); problem.From(err, problem.Admin) == nil || problem.From(err, problem.Admin).Status != 400 {
		t.Errorf("link with a bad provider name: %v", err)
	}
	if _, err := s.Store.CreateUser(authstore.NewUser{Login: "bot-1", Kind: authstore.KindAgent, Tier: "free"}, authstore.AdminActor); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LinkIdentity(api.IdentityLinkRequest{User: "bot-1", Provider: "corp", Subject: "s-4"}); problem.From(err, problem.Admin) == nil || problem.From(err, problem.Admin).Status != 400 {
		t.Errorf("linking an agent account: %v", err)
	}
	links, err := s.Identities("jane")
	if err != nil || len(links) != 1 || links[0].Subject != "s-2" || links[0].User != "jane" {
		t.Fatalf("links of jane: %+v, %v", links, err)
	}

	if err := s.UnlinkIdentity(api.IdentityLinkRequest{Provider: "corp", Subject: "s-2"}); err != nil {
		t.Fatal(err)
	}
	if all, _ := s.Identities(""); len(all) != 1 {
		t.Errorf("after unlink: %+v", all)
	}

	// Disabled stays out.
	if _, err := s.Store.UpdateUser("jane-2", authstore.AdminActor, "disabled", func(u *authstore.User) error { u.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SignInExternal(ExternalSignIn{Provider: "corp", Subject: "s-1"}); !errors.Is(err, authstore.ErrUserDisabled) {
		t.Fatalf("disabled: %v", err)
	}
}

// FuzzDeriveLogin: whatever username a provider sends, the login derived
// from it is valid.
func FuzzDeriveLogin(f *testing.F) {
	for _, s := range []string{"octocat", "Zoë", "", "--", "a\u202eb", "李雷", strings.Repeat("x", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, username string) {
		l := DeriveLogin(username)
		if _, err := authstore.NormalizeLogin(l); err != nil || len(l) > 60 {
			t.Fatalf("DeriveLogin(%q) = %q: %v", username, l, err)
		}
	})
}
