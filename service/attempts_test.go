package service

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/problem"
)

// counted reports how many failures key holds.
func (b *Backoff) counted(key string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if f, ok := b.m[key]; ok {
		return f.n
	}
	return 0
}

// newLoginService is a clocked service with a backoff and the user login
// whose password is password.
func newLoginService(t *testing.T, login, password string) *Service {
	t.Helper()
	s, _ := newClockedService(t, testGlobal())
	s.Logins = NewBackoff()
	mustUser(t, s, login, nil, nil)
	hash, err := authstore.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Store.SetPassword(login, hash, authstore.AdminActor); err != nil {
		t.Fatal(err)
	}
	return s
}

// statusOf is the status of a login's refusal, 200 for none.
func statusOf(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return http.StatusOK
	}
	var p *problem.Problem
	if !errors.As(err, &p) {
		t.Fatalf("error %v (%T) is not a problem", err, err)
	}
	return p.Status
}

// TestLoginSettlesAttempts: a success clears the account, from its IP and
// from anywhere, and takes its provisional failure back from the IP, so
// logins behind one NAT never use up the IP's free failures; a request
// that never got its hash (gone, or a full queue) answers 503 with
// Retry-After and counts nothing.
func TestLoginSettlesAttempts(t *testing.T) {
	t.Parallel()
	s := newLoginService(t, "alice", "alice password 1")
	const ip = "198.51.100.9"
	keys := newLoginKeys(" Alice ", ip)
	if keys != newLoginKeys("alice", ip) {
		t.Fatal("the keys of a login depend on its case or spaces")
	}
	counts := func() [3]int {
		return [3]int{s.Logins.counted(keys.accountIP), s.Logins.counted(keys.ip), s.Logins.counted(keys.account)}
	}
	check := func(ctx context.Context, pw string) *problem.Problem {
		_, err := s.CheckPassword(ctx, "alice", pw, "", ip)
		var p *problem.Problem
		if err != nil && !errors.As(err, &p) {
			t.Fatalf("error %v (%T) is not a problem", err, err)
		}
		return p
	}
	if d := check(context.Background(), "wrong password"); d == nil || d.Reason != "login_failed" ||
		d.Status != http.StatusUnauthorized || d.Code != "invalid_credentials" || d.Challenge != problem.Bare {
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

	if _, err := s.SetDisabled("alice", true, authstore.AdminActor); err != nil {
		t.Fatal(err)
	}
	if d := check(context.Background(), "alice password 1"); d == nil || d.Status != http.StatusForbidden || d.Reason != "user_disabled" {
		t.Fatalf("a disabled account: %+v", d)
	}
	if c := counts(); c != [3]int{0, 1, 0} {
		t.Errorf("the right password of a disabled account was counted: %v", c)
	}
}

// TestLoginLockIsPerClient drives the password check and the CLI login:
// a guesser at one address is locked out there, on both, while the
// owner logs in from another; once the account has accountFreeFailures
// failures from anywhere it is locked for everyone.
func TestLoginLockIsPerClient(t *testing.T) {
	t.Parallel()
	const attacker, owner = "203.0.113.7", "198.51.100.9"
	for _, tc := range []struct {
		name string
		cli  bool
		// before is how many failures other addresses had (counted
		// straight into the backoff: no hashing) before the guesser's.
		before     int
		ownerLocks bool
	}{
		{"password check", false, 0, false},
		{"CLI login", true, 0, false},
		{"password check, one short of the account's lock", false, accountFreeFailures - accountIPFreeFailures - 1, false},
		{"password check, at the account's lock", false, accountFreeFailures - accountIPFreeFailures, true},
		{"CLI login, at the account's lock", true, accountFreeFailures - accountIPFreeFailures, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newLoginService(t, "bob", "bob password 1")
			try := func(ip, pw string) int {
				if tc.cli {
					tok, err := s.CLILogin(context.Background(), "bob", pw, "", ip, "cli")
					if err == nil && tok.AccessToken == "" {
						t.Fatal("a CLI login without an access token")
					}
					return statusOf(t, err)
				}
				_, err := s.CheckPassword(context.Background(), "bob", pw, "", ip)
				return statusOf(t, err)
			}
			for i := range tc.before {
				if a, _ := s.Logins.beginLogin(s.now(), newLoginKeys("bob", "10.0.0."+strconv.Itoa(i))); a == nil {
					t.Fatalf("earlier failure %d refused", i)
				}
			}
			for i := range 30 {
				want := http.StatusUnauthorized
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
			want := http.StatusOK
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

// TestThrottled: the lock's wait, rounded up to whole seconds, is in
// the message and in Retry-After.
func TestThrottled(t *testing.T) {
	t.Parallel()
	p := throttled(1500_000_000)
	if p.Status != http.StatusTooManyRequests || p.Code != "too_many_attempts" || p.Reason != "login_throttled" ||
		p.Headers.Get("Retry-After") != "2" || p.Message != "too many failed logins; try again in 2 seconds" {
		t.Errorf("throttled: %+v", p)
	}
}

// TestNoBackoff: a service without a backoff refuses logins with a 500
// instead of checking them unthrottled.
func TestNoBackoff(t *testing.T) {
	t.Parallel()
	s, _ := newClockedService(t, testGlobal())
	if _, err := s.CheckPassword(context.Background(), "bob", "x", "", "192.0.2.1"); statusOf(t, err) != http.StatusInternalServerError {
		t.Errorf("CheckPassword without a backoff: %v", err)
	}
	if _, p := s.beginSetup("192.0.2.1"); p == nil || p.Status != http.StatusInternalServerError {
		t.Errorf("beginSetup without a backoff: %v", p)
	}
}
