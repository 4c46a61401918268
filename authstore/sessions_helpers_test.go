package authstore

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// newSessClock is the session tests' clock: a testClock (store_test.go)
// at a fixed start.
func newSessClock() *testClock { return &testClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

// openSessStore opens a fresh store in t.TempDir() on the given clock.
func openSessStore(t testing.TB, c *testClock) *Store {
	t.Helper()
	o := Options{TouchInterval: time.Hour}
	if c != nil {
		o.Now = c.Now
	}
	s, err := Open(filepath.Join(t.TempDir(), "test.db"), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// sessUser creates a user.
func sessUser(t testing.TB, s *Store, login string) *User {
	t.Helper()
	u, err := s.CreateUser(NewUser{Login: login, Tier: "free"}, AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// sessBrowser creates a browser session living ttl.
func sessBrowser(t testing.TB, s *Store, u *User, ttl time.Duration) *Session {
	t.Helper()
	sess, err := s.CreateSession(NewSession{UserID: u.ID, Kind: SessionBrowser, TTL: ttl, IP: "192.0.2.1", UserAgent: "test"}, Actor{Kind: "user", UserID: u.ID})
	if err != nil {
		t.Fatal(err)
	}
	return sess
}

// verifySession is what a session check concludes from the session
// record alone (VerifySessionJWT after the signature): ErrUnknownToken,
// ErrRevoked, ErrExpired or ErrUserDisabled, or the session and its user.
func verifySession(s *Store, id string) (*Session, *User, error) {
	sess, err := s.Session(id)
	if errors.Is(err, ErrNotFound) {
		return nil, nil, ErrUnknownToken
	}
	if err != nil {
		return nil, nil, err
	}
	u, err := s.checkSession(sess, s.now())
	return sess, u, err
}
