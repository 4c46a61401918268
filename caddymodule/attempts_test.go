package caddymodule

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/authstore"
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

// TestLoginSettlesAttempts: a success clears the account and takes its
// provisional failure back from the IP, so logins behind one NAT never
// use up the IP's free failures; a request that never got its hash (gone,
// or a full queue) answers 503 with Retry-After and counts nothing.
func TestLoginSettlesAttempts(t *testing.T) {
	h := testHandler(t)
	store := h.app.store
	if _, err := store.CreateUser(authstore.NewUser{Login: "alice", Tier: "free"}, authstore.AdminActor); err != nil {
		t.Fatal(err)
	}
	hash, _ := authstore.HashPassword("alice password 1")
	store.SetPassword("alice", hash, authstore.AdminActor)
	const ip = "198.51.100.9"
	acct, ipKey := h.backoffKey("login", "alice"), h.backoffKey("ip", ip)

	check := func(ctx context.Context, pw string) *denial {
		_, d := h.checkPassword(formRequest(ctx, "/login", ip, nil), "alice", pw, "")
		return d
	}
	if d := check(context.Background(), "wrong password"); d == nil || d.reason != "login_failed" {
		t.Fatalf("wrong password: %+v", d)
	}
	if loginBackoff.counted(acct) != 1 || loginBackoff.counted(ipKey) != 1 {
		t.Fatalf("a failure counts against account and IP: %d %d", loginBackoff.counted(acct), loginBackoff.counted(ipKey))
	}
	for range 3 {
		if d := check(context.Background(), "alice password 1"); d != nil {
			t.Fatalf("right password: %+v", d)
		}
	}
	if n := loginBackoff.counted(acct); n != 0 {
		t.Errorf("a success left %d failures on the account", n)
	}
	if n := loginBackoff.counted(ipKey); n != 1 {
		t.Errorf("IP count %d after one failure and three successes, want 1", n)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d := check(ctx, "wrong password")
	if d == nil || d.status != http.StatusServiceUnavailable || d.headers.Get("Retry-After") == "" {
		t.Fatalf("a check that could not hash: %+v", d)
	}
	if loginBackoff.counted(acct) != 0 || loginBackoff.counted(ipKey) != 1 {
		t.Errorf("a check that could not hash was counted: %d %d", loginBackoff.counted(acct), loginBackoff.counted(ipKey))
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
	if n := loginBackoff.counted(h.backoffKey("setup", "198.51.100.1")); n != 1 {
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
	if status[http.StatusForbidden] != accountFreeFailures || status[http.StatusTooManyRequests] != 40-accountFreeFailures {
		t.Errorf("40 concurrent wrong tokens: %v, want %d refused as wrong and the rest throttled", status, accountFreeFailures)
	}
}
