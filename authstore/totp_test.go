package authstore

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

func TestTOTP(t *testing.T) {
	c := newSessClock()
	s := openSessStore(t, c)
	sessUser(t, s, "alice")
	h, _ := HashPassword("alice's password")
	s.SetPassword("alice", h, AdminActor)

	raw, err := s.EnableTOTP("alice", "Gatehouse", AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(raw)
	secret := u.Query().Get("secret")
	if u.Scheme != "otpauth" || u.Host != "totp" || secret == "" || u.Query().Get("issuer") != "Gatehouse" {
		t.Fatalf("otpauth URL %q", raw)
	}
	if _, err := s.EnableTOTP("alice", "Gatehouse", AdminActor); !errors.Is(err, ErrTOTPEnabled) {
		t.Fatalf("enabling twice: %v", err)
	}

	code := func(at time.Time) string {
		cd, err := totp.GenerateCode(secret, at)
		if err != nil {
			t.Fatal(err)
		}
		return cd
	}
	login := func(code string) error {
		_, err := s.CheckLogin(context.Background(), "alice", "alice's password", code, "")
		return err
	}
	if err := login(""); !errors.Is(err, ErrBadCredentials) || !errors.Is(err, ErrTOTPRequired) {
		t.Fatalf("no code: %v, want ErrTOTPRequired matching ErrBadCredentials", err)
	}
	if _, err := s.CheckLogin(context.Background(), "alice", "wrong password", "", ""); errors.Is(err, ErrTOTPRequired) {
		t.Fatalf("a wrong password without a code says a code is required: %v", err)
	}
	if err := login("000000"); errors.Is(err, ErrTOTPRequired) {
		t.Fatalf("a wrong code says a code is required: %v", err)
	}
	if err := login("000000"); !errors.Is(err, ErrBadCredentials) && code(c.Now()) != "000000" {
		t.Fatalf("wrong code: %v", err)
	}
	now := code(c.Now())
	if err := login(now); err != nil {
		t.Fatalf("current code: %v", err)
	}
	if err := login(now); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("replayed code: %v", err)
	}
	c.Advance(30 * time.Second)
	if err := login(code(c.Now().Add(-30 * time.Second))); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("a code older than the last used one: %v", err)
	}
	if err := login(code(c.Now().Add(30 * time.Second))); err != nil {
		t.Fatalf("next step's code (clock drift): %v", err)
	}
	c.Advance(5 * time.Minute)
	if err := login(code(c.Now().Add(-2 * time.Minute))); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("stale code: %v", err)
	}

	if _, err := s.DisableTOTP("alice", AdminActor); err != nil {
		t.Fatal(err)
	}
	if err := login(""); err != nil {
		t.Fatalf("after disable: %v", err)
	}
}
