package service

import (
	"errors"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/problem"
)

// testClock is a settable clock for a service and its store together.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// newClockedService is a Service whose store lives by the same settable
// clock, for operations whose credentials the store dates itself.
func newClockedService(t testing.TB, g config.Global) (*Service, *testClock) {
	t.Helper()
	policy, err := CompilePolicy(g)
	if err != nil {
		t.Fatal(err)
	}
	c := &testClock{now: testNow}
	store, err := authstore.Open(filepath.Join(t.TempDir(), "gatehouse.db"), authstore.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return &Service{Store: store, Policy: policy, Now: c.Now}, c
}

// wantProblem fails unless err is a *problem.Problem with status and
// reason (0: err is nil).
func wantProblem(t testing.TB, err error, status int, reason string) {
	t.Helper()
	var p *problem.Problem
	switch {
	case status == 0 && err != nil:
		t.Errorf("unexpected error %v", err)
	case status == 0:
	case !errors.As(err, &p):
		t.Errorf("error %v (%T) is not a problem", err, err)
	case p.Status != status || p.Reason != reason:
		t.Errorf("problem %d %s, want %d %s", p.Status, p.Reason, status, reason)
	}
}

func TestStartCLISession(t *testing.T) {
	t.Parallel()
	s, _ := newClockedService(t, testGlobal())
	u := mustUser(t, s, "alice", []string{"papers:read"}, nil)
	tok, err := s.StartCLISession(u, "198.51.100.9", "gatehouse-cli/1")
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.SessionID == "" || tok.TokenType != "Bearer" {
		t.Fatalf("tokens %+v", tok)
	}
	if tok.Scope != "papers:read" {
		t.Errorf("scope %q, want the user's", tok.Scope)
	}
	if want := int(s.Policy.AccessTTL / time.Second); tok.ExpiresIn != want {
		t.Errorf("expires_in %d, want %d", tok.ExpiresIn, want)
	}
	if want := int(s.Policy.RefreshTTL / time.Second); tok.RefreshExpiresIn != want {
		t.Errorf("refresh_expires_in %d, want %d", tok.RefreshExpiresIn, want)
	}
	sess, err := s.Store.Sessions(u.ID)
	if err != nil || len(sess) != 1 || sess[0].ID != tok.SessionID || sess[0].IP != "198.51.100.9" {
		t.Errorf("sessions %+v, %v", sess, err)
	}
}

func TestRefresh(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// prepare returns the grant type and refresh token to send.
		prepare func(t *testing.T, s *Service, c *testClock, refresh string) (string, string)
		status  int
		reason  string
	}{
		{"rotates", func(t *testing.T, s *Service, c *testClock, refresh string) (string, string) {
			return "refresh_token", refresh
		}, 0, ""},
		{"no grant type", func(t *testing.T, s *Service, c *testClock, refresh string) (string, string) {
			return "", " " + refresh + " "
		}, 0, ""},
		{"other grant type", func(t *testing.T, s *Service, c *testClock, refresh string) (string, string) {
			return "password", refresh
		}, 400, "bad_grant_type"},
		{"no token", func(t *testing.T, s *Service, c *testClock, refresh string) (string, string) {
			return "", "  "
		}, 400, "refresh_missing"},
		{"unknown token", func(t *testing.T, s *Service, c *testClock, refresh string) (string, string) {
			return "", "qrt_nonsense"
		}, 400, "refresh_unknown"},
		{"reused after the grace window", func(t *testing.T, s *Service, c *testClock, refresh string) (string, string) {
			if _, err := s.Refresh("", refresh, "192.0.2.1"); err != nil {
				t.Fatal(err)
			}
			c.Advance(authstore.DefaultRefreshGrace + time.Second)
			return "", refresh
		}, 400, "refresh_reuse"},
		{"session revoked", func(t *testing.T, s *Service, c *testClock, refresh string) (string, string) {
			u, _ := s.Store.UserByLogin("alice")
			if _, err := s.Store.RevokeUserSessions(u.ID, authstore.AdminActor, "test"); err != nil {
				t.Fatal(err)
			}
			return "", refresh
		}, 400, "session_revoked"},
		{"session expired", func(t *testing.T, s *Service, c *testClock, refresh string) (string, string) {
			c.Advance(s.Policy.RefreshTTL + time.Hour)
			return "", refresh
		}, 400, "session_expired"},
		{"user disabled", func(t *testing.T, s *Service, c *testClock, refresh string) (string, string) {
			if _, err := s.SetDisabled("alice", true, authstore.AdminActor); err != nil {
				t.Fatal(err)
			}
			return "", refresh
		}, 400, "user_disabled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, c := newClockedService(t, testGlobal())
			u := mustUser(t, s, "alice", nil, nil)
			first, err := s.StartCLISession(u, "198.51.100.9", "cli")
			if err != nil {
				t.Fatal(err)
			}
			gt, refresh := tc.prepare(t, s, c, first.RefreshToken)
			got, err := s.Refresh(gt, refresh, "192.0.2.1")
			wantProblem(t, err, tc.status, tc.reason)
			if tc.status != 0 {
				return
			}
			if got.SessionID != first.SessionID || got.RefreshToken == first.RefreshToken || got.AccessToken == "" {
				t.Errorf("refreshed %+v from %+v", got, first)
			}
		})
	}
}

// TestStoreFailuresAreInternal: when the store fails, CLI logins and
// refreshes answer 500 and say nothing of why (the log does).
func TestStoreFailuresAreInternal(t *testing.T) {
	t.Parallel()
	s, _ := newClockedService(t, testGlobal())
	s.Logins = NewBackoff()
	u := mustUser(t, s, "alice", nil, nil)
	first, err := s.StartCLISession(u, "192.0.2.1", "cli")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Store.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = s.StartCLISession(u, "192.0.2.1", "cli")
	wantProblem(t, err, http.StatusInternalServerError, "internal_error")
	_, err = s.Refresh("", first.RefreshToken, "192.0.2.1")
	wantProblem(t, err, http.StatusInternalServerError, "internal_error")
}

// TestDeviceSession: a device grant polled for a session answers like a
// password login (the user's scopes, both lifetimes); before approval the
// store's refusal comes back for the endpoint to answer.
func TestDeviceSession(t *testing.T) {
	t.Parallel()
	s, _ := newClockedService(t, testGlobal())
	u := mustUser(t, s, "alice", []string{"papers:read"}, nil)
	dc, uc, err := s.Store.CreateDeviceGrant(authstore.NewDeviceGrant{ClientID: "cli", TTL: time.Hour, Interval: 0})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.DeviceSession(dc, "cli", "198.51.100.9", "ua"); !errors.Is(err, authstore.ErrAuthorizationPending) {
		t.Fatalf("pending: %v", err)
	}
	if _, err := s.Store.DecideDevice(uc, u.ID, &authstore.NewPAT{Prefix: "gth_", Name: "x", Scopes: []string{"papers:read"}}, authstore.AdminActor); err != nil {
		t.Fatal(err)
	}
	tok, _, err := s.DeviceSession(dc, "cli", "198.51.100.9", "ua")
	if err != nil || tok.AccessToken == "" || tok.RefreshToken == "" || tok.Scope != "papers:read" ||
		tok.ExpiresIn != int(s.Policy.AccessTTL/time.Second) || tok.RefreshExpiresIn != int(s.Policy.RefreshTTL/time.Second) {
		t.Fatalf("session %+v %v", tok, err)
	}
	if _, err := s.Refresh("", tok.RefreshToken, "198.51.100.9"); err != nil {
		t.Errorf("the device session does not refresh: %v", err)
	}
	if _, _, err := s.DeviceSession(dc, "cli", "198.51.100.9", "ua"); !errors.Is(err, authstore.ErrDeviceCodeUsed) {
		t.Errorf("second poll: %v", err)
	}
}
