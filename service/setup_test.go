package service

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/authstore"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// newSetupService is a clocked service with a backoff and a pending
// setup grant, and the grant's token.
func newSetupService(t *testing.T) (*Service, *testClock, string) {
	t.Helper()
	s, c := newClockedService(t, testGlobal())
	s.Logins = NewBackoff()
	tok, _, err := s.Store.CreateSetupGrant(time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return s, c, tok
}

func TestSetup(t *testing.T) {
	t.Parallel()
	const pw = "root password 1"
	wrong, _ := authstore.NewToken(authstore.SetupPrefix)
	for _, tc := range []struct {
		name string
		// prepare may change the store or the clock and returns the
		// request to make.
		prepare func(t *testing.T, s *Service, c *testClock, tok string) SetupRequest
		status  int
		reason  string
	}{
		{"creates the first administrator", func(t *testing.T, s *Service, c *testClock, tok string) SetupRequest {
			return SetupRequest{Token: tok, Login: "Root", Password: pw, PasswordConfirm: pw}
		}, 0, ""},
		{"wrong token", func(t *testing.T, s *Service, c *testClock, tok string) SetupRequest {
			return SetupRequest{Token: wrong, Login: "root", Password: pw, PasswordConfirm: pw}
		}, http.StatusForbidden, SetupBadToken},
		{"expired token", func(t *testing.T, s *Service, c *testClock, tok string) SetupRequest {
			c.Advance(2 * time.Hour)
			return SetupRequest{Token: tok, Login: "root", Password: pw, PasswordConfirm: pw}
		}, http.StatusForbidden, SetupBadToken},
		{"bad login", func(t *testing.T, s *Service, c *testClock, tok string) SetupRequest {
			return SetupRequest{Token: tok, Login: "no spaces please", Password: pw, PasswordConfirm: pw}
		}, http.StatusBadRequest, SetupBadLogin},
		{"login held by an agent", func(t *testing.T, s *Service, c *testClock, tok string) SetupRequest {
			if _, err := s.Store.CreateUser(authstore.NewUser{Login: "root", Tier: "free", Kind: authstore.KindAgent}, authstore.AdminActor); err != nil {
				t.Fatal(err)
			}
			return SetupRequest{Token: tok, Login: "root", Password: pw, PasswordConfirm: pw}
		}, http.StatusConflict, SetupTaken},
		{"short password", func(t *testing.T, s *Service, c *testClock, tok string) SetupRequest {
			return SetupRequest{Token: tok, Login: "root", Password: "short", PasswordConfirm: "short"}
		}, http.StatusBadRequest, SetupBadPassword},
		{"confirmation differs", func(t *testing.T, s *Service, c *testClock, tok string) SetupRequest {
			return SetupRequest{Token: tok, Login: "root", Password: pw, PasswordConfirm: pw + "x"}
		}, http.StatusBadRequest, SetupMismatch},
		{"setup done", func(t *testing.T, s *Service, c *testClock, tok string) SetupRequest {
			if _, err := s.Setup(context.Background(), SetupRequest{Token: tok, Login: "first", Password: pw, PasswordConfirm: pw}); err != nil {
				t.Fatal(err)
			}
			return SetupRequest{Token: tok, Login: "root", Password: pw, PasswordConfirm: pw}
		}, http.StatusConflict, SetupDone},
		{"throttled", func(t *testing.T, s *Service, c *testClock, tok string) SetupRequest {
			for range setupFreeFailures {
				if _, err := s.Setup(context.Background(), SetupRequest{Token: wrong, IP: "192.0.2.1"}); statusOf(t, err) != http.StatusForbidden {
					t.Fatalf("wrong token: %v", err)
				}
			}
			return SetupRequest{Token: tok, Login: "root", Password: pw, PasswordConfirm: pw, IP: "192.0.2.1"}
		}, http.StatusTooManyRequests, "login_throttled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, c, tok := newSetupService(t)
			req := tc.prepare(t, s, c, tok)
			if req.IP == "" {
				req.IP = "198.51.100.1"
			}
			u, err := s.Setup(context.Background(), req)
			wantProblem(t, err, tc.status, tc.reason)
			if tc.status != 0 {
				return
			}
			if u.Login != "root" || !u.Admin || s.SetupPending() {
				t.Errorf("setup made %+v, pending %v", u, s.SetupPending())
			}
			if _, err := s.Store.CheckLogin(context.Background(), "root", pw, "", req.IP); err != nil {
				t.Errorf("the new administrator cannot log in: %v", err)
			}
		})
	}
}

// TestSetupChecksTokenFirst: the setup token is checked before the new
// password is hashed. The context is cancelled, so any hash would fail
// with 503: a wrong token must get its 403 without one. Concurrent wrong
// tokens get through only as many as are free.
func TestSetupChecksTokenFirst(t *testing.T) {
	t.Parallel()
	s, _, tok := newSetupService(t)
	req := func(token, ip string) SetupRequest {
		return SetupRequest{Token: token, Login: "root", Password: "root password 1", PasswordConfirm: "root password 1", IP: ip}
	}
	gone, cancel := context.WithCancel(context.Background())
	cancel()

	wrong, _ := authstore.NewToken(authstore.SetupPrefix)
	if _, err := s.Setup(gone, req(wrong, "198.51.100.1")); statusOf(t, err) != http.StatusForbidden {
		t.Fatalf("wrong token: %v (503 would mean the password was hashed first)", err)
	}
	_, err := s.Setup(gone, req(tok, "198.51.100.1"))
	wantProblem(t, err, http.StatusServiceUnavailable, "server_busy")
	if n, _ := s.Store.CountUsers(); n != 0 {
		t.Fatalf("%d users after refused setups", n)
	}
	if n := s.Logins.counted(BackoffKey("setup", "198.51.100.1")); n != 1 {
		t.Errorf("setup IP count %d, want 1 (the wrong token only)", n)
	}

	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		status = map[int]int{}
	)
	for range 40 {
		wg.Go(func() {
			_, err := s.Setup(context.Background(), req(wrong, "198.51.100.2"))
			mu.Lock()
			status[statusOf(t, err)]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if status[http.StatusForbidden] != setupFreeFailures || status[http.StatusTooManyRequests] != 40-setupFreeFailures {
		t.Errorf("40 concurrent wrong tokens: %v, want %d refused as wrong and the rest throttled", status, setupFreeFailures)
	}
}

// TestOfferSetup: a store without humans gets a setup token, logged; a
// second offer (a reload) logs the same one until it expires or is used;
// a store with a human gets none.
func TestOfferSetup(t *testing.T) {
	t.Parallel()
	s, c := newClockedService(t, testGlobal())
	s.Logins, s.Offer = NewBackoff(), new(SetupOffer)
	core, logs := observer.New(zap.WarnLevel)
	s.Logger = zap.New(core)
	offered := func() string {
		t.Helper()
		all := logs.TakeAll()
		if len(all) != 1 {
			t.Fatalf("%d log lines, want 1", len(all))
		}
		url, _ := all[0].ContextMap()["setup_url"].(string)
		tok, ok := strings.CutPrefix(url, "/setup#")
		if !ok || tok == "" {
			t.Fatalf("setup_url %q", url)
		}
		return tok
	}
	s.OfferSetup()
	first := offered()
	s.OfferSetup()
	if again := offered(); again != first {
		t.Error("a second offer replaced the token")
	}
	c.Advance(SetupTTL + time.Second)
	s.OfferSetup()
	third := offered()
	if third == first {
		t.Error("an expired token was offered again")
	}
	const pw = "root password 1"
	if _, err := s.Setup(context.Background(), SetupRequest{Token: third, Login: "root", Password: pw, PasswordConfirm: pw, IP: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	if s.Offer.token != "" {
		t.Error("a used offer was kept")
	}
	s.OfferSetup()
	if n := logs.Len(); n != 0 {
		t.Errorf("a store with an administrator was offered setup (%d lines)", n)
	}
}
