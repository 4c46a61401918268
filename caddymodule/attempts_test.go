package caddymodule

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
	"github.com/gatehouse/gatehouse/internal/clock"
	"github.com/gatehouse/gatehouse/problem"
)

// formRequest is a POST of form from ip, on ctx.
func formRequest(ctx context.Context, path, ip string, form url.Values) *http.Request {
	r := httptest.NewRequestWithContext(ctx, http.MethodPost, path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.RemoteAddr = ip + ":50000"
	return r
}

// counted reports how many failures key holds.
func (b *backoff) counted(key string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if f, ok := b.m[key]; ok {
		return f.n
	}
	return 0
}

// TestLoginSettlesAttempts: a success clears the account, from its IP and
// from anywhere, and takes its provisional failure back from the IP, so
// logins behind one NAT never use up the IP's free failures; a request
// that never got its hash (gone, or a full queue) answers 503 with
// Retry-After and counts nothing.
func TestLoginSettlesAttempts(t *testing.T) {
	h := testHandler(t)
	store := h.app.store
	if _, err := store.CreateUser(authstore.NewUser{Login: "alice", Tier: "free"}, authstore.AdminActor); err != nil {
		t.Fatal(err)
	}
	hash, _ := authstore.HashPassword("alice password 1")
	store.SetPassword("alice", hash, authstore.AdminActor)
	const ip = "198.51.100.9"
	keys := newLoginKeys(" Alice ", ip)
	if keys != newLoginKeys("alice", ip) {
		t.Fatal("the keys of a login depend on its case or spaces")
	}
	counts := func() [3]int {
		return [3]int{h.app.logins.counted(keys.accountIP), h.app.logins.counted(keys.ip), h.app.logins.counted(keys.account)}
	}

	check := func(ctx context.Context, pw string) *problem.Problem {
		_, d := h.checkPassword(formRequest(ctx, "/login", ip, nil), "alice", pw, "")
		return d
	}
	if d := check(context.Background(), "wrong password"); d == nil || d.Reason != "login_failed" {
		t.Fatalf("wrong password: %+v", d)
	}
	if c := counts(); c != [3]int{1, 1, 1} {
		t.Fatalf("a failure counts against account from IP, IP and account: %v", c)
	}
	for range 3 {
		if d := check(context.Background(), "alice password 1"); d != nil {
			t.Fatalf("right password: %+v", d)
		}
	}
	if c := counts(); c != [3]int{0, 1, 0} {
		t.Errorf("counts %v after one failure and three successes, want the IP's failure only", c)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d := check(ctx, "wrong password")
	if d == nil || d.Status != http.StatusServiceUnavailable || d.Headers.Get("Retry-After") == "" {
		t.Fatalf("a check that could not hash: %+v", d)
	}
	if c := counts(); c != [3]int{0, 1, 0} {
		t.Errorf("a check that could not hash was counted: %v", c)
	}
	w := httptest.NewRecorder()
	h.serveLogin(w, formRequest(ctx, "/login", ip, url.Values{"login": {"alice"}, "password": {"x"}}), anonymous)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "1" || !strings.Contains(w.Body.String(), "server is busy") {
		t.Errorf("login form when busy: %d %q", w.Code, w.Header().Get("Retry-After"))
	}
}

// TestSetupChecksTokenFirst: the setup token is checked before the new
// password is hashed. The request's context is cancelled, so any hash
// would fail with 503: a wrong token must get its 403 without one.
// Concurrent wrong tokens get through only as many as are free.
func TestSetupChecksTokenFirst(t *testing.T) {
	h := testHandler(t)
	tok, _, err := h.app.store.CreateSetupGrant(time.Hour)
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
	h.serveSetup(w, formRequest(gone, "/setup", "198.51.100.1", form(wrong)), anonymous)
	if w.Code != http.StatusForbidden {
		t.Fatalf("wrong token: %d (503 would mean the password was hashed first)", w.Code)
	}
	w = httptest.NewRecorder()
	h.serveSetup(w, formRequest(gone, "/setup", "198.51.100.1", form(tok)), anonymous)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Fatalf("right token, request gone: %d", w.Code)
	}
	if n, _ := h.app.store.CountUsers(); n != 0 {
		t.Fatalf("%d users after refused setups", n)
	}
	if n := h.app.logins.counted(backoffKey("setup", "198.51.100.1")); n != 1 {
		t.Errorf("setup IP count %d, want 1 (the wrong token only)", n)
	}

	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		status = map[int]int{}
	)
	for range 40 {
		wg.Go(func() {
			w := httptest.NewRecorder()
			h.serveSetup(w, formRequest(context.Background(), "/setup", "198.51.100.2", form(wrong)), anonymous)
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
// while the owner logs in from another; once the account has
// accountFreeFailures failures from anywhere it is locked for everyone.
func TestLoginLockIsPerClient(t *testing.T) {
	const attacker, owner = "203.0.113.7", "198.51.100.9"
	for _, tc := range []struct {
		name string
		path string
		// before is how many failures other addresses had (counted
		// straight into the backoff: no hashing) before the guesser's.
		before     int
		ownerLocks bool
	}{
		{"login form", "/login", 0, false},
		{"CLI login", "/api/session", 0, false},
		{"login form, one short of the account's lock", "/login", accountFreeFailures - accountIPFreeFailures - 1, false},
		{"login form, at the account's lock", "/login", accountFreeFailures - accountIPFreeFailures, true},
		{"CLI login, at the account's lock", "/api/session", accountFreeFailures - accountIPFreeFailures, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := testHandler(t)
			now := time.Unix(1_700_000_000, 0)
			t.Cleanup(clock.Stop(now))
			store := h.app.store
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
					h.serveLogin(w, r, anonymous)
				} else {
					h.serveCLISession(w, r, anonymous)
				}
				return w.Code
			}

			for i := range tc.before {
				if a, _ := h.app.logins.beginLogin(now, newLoginKeys("bob", "10.0.0."+strconv.Itoa(i))); a == nil {
					t.Fatalf("earlier failure %d refused", i)
				}
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
