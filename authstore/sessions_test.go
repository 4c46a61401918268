package authstore

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSessionLifecycle(t *testing.T) {
	c := newSessClock()
	s := openSessStore(t, c)
	alice := sessUser(t, s, "alice")

	sess := sessBrowser(t, s, alice, time.Hour)
	if !strings.HasPrefix(sess.ID, "ses_") || sess.Kind != SessionBrowser || !sess.ExpiresAt.Equal(c.Now().Add(time.Hour)) {
		t.Fatalf("new session %+v", sess)
	}
	c.Advance(time.Second)
	again := sessBrowser(t, s, alice, time.Hour-time.Second)
	if again.ID == sess.ID {
		t.Fatal("a second login reused the session id")
	}

	got, u, err := verifySession(s, sess.ID)
	if err != nil || got.ID != sess.ID || u.ID != alice.ID {
		t.Fatalf("verify: %v %+v %+v", err, got, u)
	}
	if _, _, err := verifySession(s, "ses_nope"); !errors.Is(err, ErrUnknownToken) {
		t.Fatalf("unknown session: %v", err)
	}

	if _, err := s.RevokeSession(sess.ID, Actor{Kind: "user", UserID: alice.ID}, "logout"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := verifySession(s, sess.ID); !errors.Is(err, ErrRevoked) {
		t.Fatalf("revoked session verified: %v", err)
	}
	if _, err := s.RevokeSession(sess.ID, AdminActor, "again"); err != nil {
		t.Fatalf("revoking twice: %v", err)
	}

	c.Advance(time.Hour)
	if _, _, err := verifySession(s, again.ID); !errors.Is(err, ErrExpired) {
		t.Fatalf("expired session verified: %v", err)
	}

	list, err := s.Sessions(alice.ID)
	if err != nil || len(list) != 2 || list[0].ID != sess.ID || list[0].RevokedReason != "logout" {
		t.Fatalf("list: %v %+v", err, list)
	}
	if list[0].Status(c.Now()) != "revoked" || list[1].Status(c.Now()) != "expired" {
		t.Errorf("statuses %s %s", list[0].Status(c.Now()), list[1].Status(c.Now()))
	}

	events, _ := s.Audit(alice.ID, 0)
	var logins, revoked int
	for _, e := range events {
		switch e.Action {
		case ActionLogin:
			logins++
		case ActionSessionRevoked:
			revoked++
		}
	}
	if logins != 2 || revoked != 1 {
		t.Errorf("audit: %d logins, %d revocations", logins, revoked)
	}
}

func TestSessionRefusedForDisabledUser(t *testing.T) {
	s := openSessStore(t, newSessClock())
	bob := sessUser(t, s, "bob")
	sess := sessBrowser(t, s, bob, time.Hour)
	if _, err := s.UpdateUser("bob", AdminActor, "disabled", func(u *User) error { u.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, _, err := verifySession(s, sess.ID); !errors.Is(err, ErrUserDisabled) {
		t.Fatalf("disabled user's session: %v", err)
	}
	if _, err := s.CreateSession(NewSession{UserID: bob.ID, Kind: SessionBrowser, TTL: time.Hour}, AdminActor); !errors.Is(err, ErrUserDisabled) {
		t.Fatalf("login of disabled user: %v", err)
	}
}

func TestRevokeUserSessions(t *testing.T) {
	c := newSessClock()
	s := openSessStore(t, c)
	alice, bob := sessUser(t, s, "alice"), sessUser(t, s, "bob")
	a1, a2 := sessBrowser(t, s, alice, time.Hour), sessBrowser(t, s, alice, 2*time.Hour)
	cli, _, err := s.CreateCLISession(NewSession{UserID: alice.ID, TTL: time.Hour}, AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	b := sessBrowser(t, s, bob, time.Hour)
	// Warm the cache so the test sees that revocation invalidates it.
	for _, id := range []string{a1.ID, a2.ID, cli.ID} {
		if _, _, err := verifySession(s, id); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.RevokeUserSessions(alice.ID, AdminActor, "admin")
	if err != nil || n != 3 {
		t.Fatalf("revoked %d, %v", n, err)
	}
	for _, id := range []string{a1.ID, a2.ID, cli.ID} {
		if _, _, err := verifySession(s, id); !errors.Is(err, ErrRevoked) {
			t.Errorf("session %s after log-out-everywhere: %v", id, err)
		}
	}
	if _, _, err := verifySession(s, b.ID); err != nil {
		t.Errorf("another user's session was revoked: %v", err)
	}
	if n, _ := s.RevokeUserSessions(alice.ID, AdminActor, "admin"); n != 0 {
		t.Errorf("second revoke-all ended %d sessions", n)
	}
}

func TestSessionsArePrunedAfterRetention(t *testing.T) {
	c := newSessClock()
	s := openSessStore(t, c)
	alice := sessUser(t, s, "alice")
	old, tok, err := s.CreateCLISession(NewSession{UserID: alice.ID, TTL: time.Hour}, AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RotateRefresh(tok, DefaultRefreshGrace, AdminActor); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Hour + sessionRetention + time.Minute)
	sessBrowser(t, s, alice, time.Hour)
	list, _ := s.Sessions(alice.ID)
	if len(list) != 1 || list[0].ID == old.ID {
		t.Fatalf("old session kept: %+v", list)
	}
	if _, err := s.RotateRefresh(tok, DefaultRefreshGrace, AdminActor); !errors.Is(err, ErrUnknownToken) {
		t.Errorf("pruned refresh token: %v", err)
	}
	if problems, err := s.Check(); err != nil || len(problems) != 0 {
		t.Errorf("check: %v %v", err, problems)
	}
}

func TestSessionLastSeen(t *testing.T) {
	c := newSessClock()
	s := openSessStore(t, c)
	alice := sessUser(t, s, "alice")
	sess := sessBrowser(t, s, alice, time.Hour)
	jwt, err := s.IssueSessionJWT(sess, c.Now(), c.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	c.Advance(2 * time.Minute)
	if _, _, _, err := s.VerifySessionJWT(jwt, "198.51.100.7"); err != nil {
		t.Fatal(err)
	}
	s.FlushTouches()
	list, _ := s.Sessions(alice.ID)
	if len(list) != 1 || !list[0].LastSeenAt.Equal(c.Now()) || list[0].LastSeenIP != "198.51.100.7" {
		t.Fatalf("last seen not recorded: %+v", list)
	}
}
