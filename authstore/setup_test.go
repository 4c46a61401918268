package authstore

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSetupGrant(t *testing.T) {
	c := newSessClock()
	s := openSessStore(t, c)
	h, _ := HashPassword("first admin password")
	if _, err := s.UseSetupGrant("ghs_whatever", NewUser{Login: "root"}, h, Actor{Kind: "user"}); err == nil {
		t.Fatal("setup worked without a grant")
	}
	tok, exp, err := s.CreateSetupGrant(time.Hour)
	if err != nil || !strings.HasPrefix(tok, SetupPrefix) || !exp.Equal(c.Now().Add(time.Hour)) || !s.SetupPending() {
		t.Fatalf("grant: %v %v", err, exp)
	}
	// Only the newest grant works.
	old := tok
	tok, _, _ = s.CreateSetupGrant(time.Hour)
	if _, err := s.UseSetupGrant(old, NewUser{Login: "root"}, h, Actor{Kind: "user"}); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("replaced grant: %v", err)
	}
	forged, _ := NewToken(SetupPrefix)
	if _, err := s.UseSetupGrant(forged, NewUser{Login: "root"}, h, Actor{Kind: "user"}); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("forged: %v", err)
	}
	if _, err := s.UseSetupGrant(tok, NewUser{Login: "root"}, "plain", Actor{Kind: "user"}); err == nil {
		t.Fatal("setup accepted a non-hash password")
	}

	c.Advance(time.Hour)
	if _, err := s.UseSetupGrant(tok, NewUser{Login: "root"}, h, Actor{Kind: "user"}); !errors.Is(err, ErrExpired) {
		t.Fatalf("expired: %v", err)
	}
	if s.SetupPending() {
		t.Error("an expired grant is pending")
	}
	tok, _, _ = s.CreateSetupGrant(time.Hour)
	u, err := s.UseSetupGrant(tok, NewUser{Login: "Root", Tier: "free"}, h, Actor{Kind: "user", IP: "192.0.2.9"})
	if err != nil || u.Login != "root" || u.Scopes != nil || u.PasswordHash != h {
		t.Fatalf("use: %v %+v", err, u)
	}
	if _, err := s.CheckLogin(context.Background(), "root", "first admin password", "", ""); err != nil {
		t.Fatalf("first admin cannot log in: %v", err)
	}
	if _, err := s.UseSetupGrant(tok, NewUser{Login: "root2"}, h, Actor{Kind: "user"}); !errors.Is(err, ErrSetupUnavailable) {
		t.Fatalf("second use: %v", err)
	}
	if _, _, err := s.CreateSetupGrant(time.Hour); !errors.Is(err, ErrSetupUnavailable) {
		t.Fatalf("grant with users: %v", err)
	}
	if s.SetupPending() {
		t.Error("setup pending with users")
	}
}
