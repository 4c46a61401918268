package service

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/config"
)

// TestBrowserSessions: a login gets a new session whose cookie lives for
// the cookie's life but never past the session; a logout ends one
// session, everywhere ends them all, and a replaced session is ended.
func TestBrowserSessions(t *testing.T) {
	g := testGlobal()
	g.SessionTTL = config.Duration(2 * time.Hour)
	s := newTestService(t, g)
	s.Now = nil // the store's clock, which its sessions live by
	u := mustUser(t, s, "alice", nil, nil)
	start := func(life time.Duration) BrowserSession {
		t.Helper()
		bs, err := s.StartBrowserSession(u, "192.0.2.1", "test", life)
		if err != nil {
			t.Fatal(err)
		}
		return bs
	}
	short, long := start(time.Hour), start(5*time.Hour)
	if short.Session.ID == long.Session.ID || short.JWT == "" {
		t.Fatal("two logins share a session")
	}
	if !short.Expires.Equal(short.Issued.Add(time.Hour)) {
		t.Errorf("cookie of a 1h life kept until %v (issued %v)", short.Expires, short.Issued)
	}
	if !long.Expires.Equal(long.Session.ExpiresAt) {
		t.Errorf("cookie kept until %v, past its session's end %v", long.Expires, long.Session.ExpiresAt)
	}
	if n, err := s.EndSessions(u.ID, short.Session.ID, "192.0.2.1", false); err != nil || n != 1 {
		t.Fatalf("logout: %d %v", n, err)
	}
	if sess, _ := s.Store.Session(short.Session.ID); sess == nil || sess.RevokedAt.IsZero() {
		t.Error("the session is not ended after logout")
	}
	third := start(time.Hour)
	s.ReplaceSession(u.ID, third.Session.ID, "192.0.2.1")
	if sess, _ := s.Store.Session(third.Session.ID); sess == nil || sess.RevokedAt.IsZero() {
		t.Error("a replaced session is not ended")
	}
	start(time.Hour)
	if n, err := s.EndSessions(u.ID, "", "192.0.2.1", true); err != nil || n != 2 {
		t.Errorf("log out everywhere: %d sessions ended, %v; want the 2 still open", n, err)
	}
	if _, err := s.EndSessions(u.ID, "ses_missing", "", false); err == nil {
		t.Error("ending an unknown session succeeds")
	}
}
