package endpoints

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/decision"
	"github.com/gatehouse/gatehouse/internal/clock"
)

// The free failures of service's backoff, as the pages see them.
const (
	accountIPFreeFailures = 5 // a login's account from one client IP
	setupFreeFailures     = 5 // setup tokens from one client IP
)

// formRequest is a POST of form from ip, on ctx.
func formRequest(ctx context.Context, path, ip string, form url.Values) *http.Request {
	r := httptest.NewRequestWithContext(ctx, http.MethodPost, path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.RemoteAddr = ip + ":50000"
	return r
}

// TestLoginFormWhenBusy: a login whose hash never ran (the request is
// gone, or the queue full) shows the busy message with 503 and
// Retry-After (service.CheckPassword counts nothing for it; see its
// tests).
func TestLoginFormWhenBusy(t *testing.T) {
	s := defaultTestSite(t)
	if _, err := s.store.CreateUser(authstore.NewUser{Login: "alice", Tier: "free"}, authstore.AdminActor); err != nil {
		t.Fatal(err)
	}
	hash, _ := authstore.HashPassword("alice password 1")
	s.store.SetPassword("alice", hash, authstore.AdminActor)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := httptest.NewRecorder()
	s.serveLogin(w, formRequest(ctx, "/login", "198.51.100.9", url.Values{"login": {"alice"}, "password": {"x"}}), decision.Anonymous)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "1" || !strings.Contains(w.Body.String(), "server is busy") {
		t.Errorf("login form when busy: %d %q", w.Code, w.Header().Get("Retry-After"))
	}
}

// TestSetupChecksTokenFirst: the setup token is checked before the new
// password is hashed. The request's context is cancelled, so any hash
// would fail with 503: a wrong token must get its 403 without one.
// Concurrent wrong tokens get through only as many as are free.
func TestSetupChecksTokenFirst(t *testing.T) {
	s := defaultTestSite(t)
	tok, _, err := s.store.CreateSetupGrant(time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	form := func(token string) url.Values {
		return url.Values{"setup_token": {token}, "login": {"root"}, "password": {"root password 1"}, "password_confirm": {"root password 1"}}
	}
	gone, cancel := context.WithCancel(context.Background())
	cancel()

	wrong, _ := authstore.NewToken(authstore.SetupPrefix)
	w := httptest.NewRecorder()
	s.serveSetup(w, formRequest(gone, "/setup", "198.51.100.1", form(wrong)), decision.Anonymous)
	if w.Code != http.StatusForbidden {
		t.Fatalf("wrong token: %d (503 would mean the password was hashed first)", w.Code)
	}
	w = httptest.NewRecorder()
	s.serveSetup(w, formRequest(gone, "/setup", "198.51.100.1", form(tok)), decision.Anonymous)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Fatalf("right token, request gone: %d", w.Code)
	}
	if n, _ := s.store.CountUsers(); n != 0 {
		t.Fatalf("%d users after refused setups", n)
	}
	// The wrong token only was counted: the address has the rest of its
	// free failures left, and then is locked.
	for i := range setupFreeFailures {
		want := http.StatusForbidden
		if i == setupFreeFailures-1 {
			want = http.StatusTooManyRequests
		}
		w := httptest.NewRecorder()
		s.serveSetup(w, formRequest(context.Background(), "/setup", "198.51.100.1", form(wrong)), decision.Anonymous)
		if w.Code != want {
			t.Errorf("wrong token %d after the refused setups: %d, want %d (setup IP count is not 1)", i+2, w.Code, want)
		}
	}

	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		status = map[int]int{}
	)
	for range 40 {
		wg.Go(func() {
			w := httptest.NewRecorder()
			s.serveSetup(w, formRequest(context.Background(), "/setup", "198.51.100.2", form(wrong)), decision.Anonymous)
			mu.Lock()
			status[w.Code]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if status[http.StatusForbidden] != setupFreeFailures || status[http.StatusTooManyRequests] != 40-setupFreeFailures {
		t.Errorf("40 concurrent wrong tokens: %v, want %d refused as wrong and the rest throttled", status, setupFreeFailures)
	}
}

// TestLoginLockIsPerClient drives the login form and the CLI login on a
// stopped clock: a guesser at one address is locked out there, on both,
// while the owner logs in from another. The account's own lock, at
// accountFreeFailures failures from anywhere, is service's
// TestLoginLockIsPerClient.
func TestLoginLockIsPerClient(t *testing.T) {
	const attacker, owner = "203.0.113.7", "198.51.100.9"
	for _, tc := range []struct {
		name       string
		path       string
		ownerLocks bool
	}{
		{"login form", "/login", false},
		{"CLI login", "/api/session", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := defaultTestSite(t)
			now := time.Unix(1_700_000_000, 0)
			t.Cleanup(clock.Stop(now))
			store := s.store
			if _, err := store.CreateUser(authstore.NewUser{Login: "bob", Tier: "free"}, authstore.AdminActor); err != nil {
				t.Fatal(err)
			}
			hash, _ := authstore.HashPassword("bob password 1")
			store.SetPassword("bob", hash, authstore.AdminActor)
			wrong, right := http.StatusForbidden, http.StatusSeeOther
			if tc.path == "/api/session" {
				wrong, right = http.StatusUnauthorized, http.StatusOK
			}
			try := func(ip, pw string) int {
				w := httptest.NewRecorder()
				r := formRequest(context.Background(), tc.path, ip, url.Values{"login": {"bob"}, "password": {pw}})
				if tc.path == "/login" {
					s.serveLogin(w, r, decision.Anonymous)
				} else {
					s.serveCLISession(w, r, decision.Anonymous)
				}
				return w.Code
			}

			for i := range 30 {
				want := wrong
				if i >= accountIPFreeFailures {
					want = http.StatusTooManyRequests
				}
				if code := try(attacker, "wrong password "+strconv.Itoa(i)); code != want {
					t.Fatalf("guess %d: %d, want %d", i, code, want)
				}
			}
			if code := try(attacker, "bob password 1"); code != http.StatusTooManyRequests {
				t.Errorf("the guesser's address with the right password: %d, want 429", code)
			}
			want := right
			if tc.ownerLocks {
				want = http.StatusTooManyRequests
			}
			if code := try(owner, "bob password 1"); code != want {
				t.Errorf("the owner from another address: %d, want %d", code, want)
			}
			if code := try(attacker, "bob password 1"); code != http.StatusTooManyRequests {
				t.Errorf("the guesser's address after the owner's login: %d, want 429", code)
			}
		})
	}
}
