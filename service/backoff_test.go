package service

import (
	"strconv"
	"sync"
	"testing"
	"time"
)

// fail is a whole failed attempt on one key.
func (b *Backoff) fail(now time.Time, key string, free int) time.Duration {
	_, wait := b.Begin(now, Allowance{key, free})
	return wait
}

// lockOf reports how long key stays locked at now.
func (b *Backoff) lockOf(now time.Time, key string) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if f, ok := b.m[key]; ok && f.until.After(now) {
		return f.until.Sub(now)
	}
	return 0
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	b := NewBackoff()
	now := time.Unix(1_700_000_000, 0)
	for range 2 {
		b.fail(now, "k", 3)
	}
	if w := b.lockOf(now, "k"); w != 0 {
		t.Fatalf("locked within the free failures: %v", w)
	}
	// The failure that uses up the free ones locks; each later one
	// doubles the lock (each is begun once the previous lock is over).
	at := now
	for _, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second} {
		if w := b.fail(at, "k", 3); w != 0 {
			t.Fatalf("refused after its lock ended: %v", w)
		}
		if w := b.lockOf(at, "k"); w != want {
			t.Fatalf("lock %v, want %v", w, want)
		}
		// While locked, an attempt is refused and counts nothing.
		if a, w := b.Begin(at, Allowance{"other", 3}, Allowance{"k", 3}); a != nil || w != want {
			t.Fatalf("locked key: attempt %v, wait %v", a, w)
		}
		if _, ok := b.m["other"]; ok {
			t.Fatal("a refused attempt counted against its other key")
		}
		at = at.Add(want)
	}
	for range 30 {
		b.fail(at, "k", 3)
		at = at.Add(b.lockOf(at, "k"))
	}
	if w := b.fail(at, "k", 3); w != 0 || b.lockOf(at, "k") != backoffCap {
		t.Fatalf("lock %v, want the cap %v", b.lockOf(at, "k"), backoffCap)
	}
	// A day without failures starts the count afresh.
	later := at.Add(backoffForget + time.Hour)
	b.fail(later, "k", 3)
	if w := b.lockOf(later, "k"); w != 0 {
		t.Fatalf("an old count was kept: %v", w)
	}
}

// TestBackoffSettle checks how an attempt is settled: clear forgets the
// key, refund takes back exactly the attempt's failure and any lock it
// imposed, and a lock imposed by a real failure meanwhile stays.
func TestBackoffSettle(t *testing.T) {
	t.Parallel()
	b := NewBackoff()
	now := time.Unix(1_700_000_000, 0)
	acct, ip := Allowance{"acct", 2}, Allowance{"ip", 3}
	b.Begin(now, acct, ip) // one real failure of each

	a, _ := b.Begin(now, acct, ip)
	if b.lockOf(now, "acct") == 0 {
		t.Fatal("the provisional failure using up the free ones did not lock")
	}
	a.clear("acct")
	a.refund("ip")
	a.refund("ip") // refunding twice takes back one failure only
	if _, ok := b.m["acct"]; ok {
		t.Error("clear kept the account")
	}
	if f := b.m["ip"]; f == nil || f.n != 1 || b.lockOf(now, "ip") != 0 {
		t.Errorf("refund left %+v", f)
	}

	// The third IP attempt uses up the free failures; refunding it lifts
	// the lock it set.
	b.Begin(now, ip)
	a, _ = b.Begin(now, ip)
	if b.lockOf(now, "ip") == 0 {
		t.Fatal("not locked")
	}
	a.refund("ip")
	if w := b.lockOf(now, "ip"); w != 0 || b.m["ip"].n != 2 {
		t.Errorf("after the refund: lock %v, count %d", w, b.m["ip"].n)
	}

	// A lock imposed after the attempt began is not the attempt's to lift.
	a, _ = b.Begin(now, ip)
	later := now.Add(2 * time.Second)
	b.m["ip"].until = time.Time{}
	b.Begin(later, ip) // a real failure, locking anew
	a.refund("ip")
	if w := b.lockOf(later, "ip"); w == 0 {
		t.Error("a refund lifted another failure's lock")
	}
	if a, w := b.Begin(now, Allowance{"fresh", 1}); a == nil || w != 0 {
		t.Fatal("a new key is refused")
	} else {
		a.RefundAll()
		if _, ok := b.m["fresh"]; ok {
			t.Error("a refunded first attempt left its key behind")
		}
	}
}

// TestBackoffConcurrentAttempts is the race the begin step exists for: of
// many concurrent logins, only the free ones get through, per account and
// client IP and per account.
func TestBackoffConcurrentAttempts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		attempts int
		ips      int // the attempts come from this many client IPs in turn
		want     int
	}{
		{"one account from two IPs", 40, 2, 2 * accountIPFreeFailures},
		{"one account from many IPs", 150, 150, accountFreeFailures},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := NewBackoff()
			now := time.Unix(1_700_000_000, 0)
			var (
				wg      sync.WaitGroup
				mu      sync.Mutex
				allowed int
			)
			for i := range tc.attempts {
				wg.Go(func() {
					if a, _ := b.beginLogin(now, keysOf("bob", "ip"+strconv.Itoa(i%tc.ips))); a != nil {
						mu.Lock()
						allowed++
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if allowed != tc.want {
				t.Fatalf("%d attempts got through, want %d", allowed, tc.want)
			}
		})
	}
}

// keysOf are a login's keys in these tests.
func keysOf(login, ip string) loginKeys {
	return loginKeys{accountIP: "login-ip|" + login + "|" + ip, ip: "ip|" + ip, account: "login|" + login}
}

// loginSim drives the login policy on a settable clock.
type loginSim struct {
	t   *testing.T
	b   *Backoff
	now time.Time
}

// try is one login of login from ip, with the right password or a wrong
// one; refused, it reports how long the lock lasts.
func (s *loginSim) try(login, ip string, right bool) (bool, time.Duration) {
	a, wait := s.b.beginLogin(s.now, keysOf(login, ip))
	if a == nil {
		return false, wait
	}
	if right {
		a.succeeded()
	}
	return true, 0
}

// step is one thing that happens in a TestLoginBackoffPolicy case.
type step func(s *loginSim)

// guess is n wrong passwords for login from ip, from a patient guesser
// who waits out each lock.
func guess(login, ip string, n int) step {
	return func(s *loginSim) {
		for i := 0; i < n; {
			if ok, wait := s.try(login, ip, false); !ok {
				s.now = s.now.Add(wait)
				continue
			}
			i++
		}
	}
}

// burst is n wrong passwords for login from ip at once: only the free
// ones are counted.
func burst(login, ip string, n int) step {
	return func(s *loginSim) {
		for range n {
			s.try(login, ip, false)
		}
	}
}

// spread is each wrong passwords for login from each of n client IPs
// (prefix0, prefix1, …), none of them waiting.
func spread(login, prefix string, n, each int) step {
	return func(s *loginSim) {
		for i := range n {
			for range each {
				if ok, _ := s.try(login, prefix+strconv.Itoa(i), false); !ok {
					s.t.Fatalf("guess %s from %s%d refused", login, prefix, i)
				}
			}
		}
	}
}

// spray is one wrong password from ip for each of n accounts.
func spray(ip string, n int) step {
	return func(s *loginSim) {
		for i := range n {
			s.try("user"+strconv.Itoa(i), ip, false)
		}
	}
}

// letIn: the right password for login from ip gets in.
func letIn(login, ip string) step {
	return func(s *loginSim) {
		s.t.Helper()
		if ok, wait := s.try(login, ip, true); !ok {
			s.t.Errorf("%s from %s with the right password: locked for %v, want let in", login, ip, wait)
		}
	}
}

// locked: the right password for login from ip is refused, with a wait.
func locked(login, ip string) step {
	return func(s *loginSim) {
		s.t.Helper()
		if ok, wait := s.try(login, ip, true); ok || wait <= 0 {
			s.t.Errorf("%s from %s with the right password: let in, want locked", login, ip)
		}
	}
}

// TestLoginBackoffPolicy: a login is counted per account and client IP
// (5 free), per IP (20) and per account (100). Someone guessing a
// password from one address is locked there and only there; the account
// is locked for everyone only after 100 consecutive failures (NIST SP
// 800-63B §5.2.2's ceiling).
func TestLoginBackoffPolicy(t *testing.T) {
	t.Parallel()
	const attacker, owner, other = "203.0.113.7", "198.51.100.9", "192.0.2.1"
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"a guesser elsewhere does not lock the owner out", []step{
			guess("bob", attacker, 30), locked("bob", attacker), letIn("bob", owner),
			locked("bob", attacker), // the owner's login does not unlock the guesser
		}},
		{"a burst from one address locks only that address", []step{
			burst("bob", attacker, 40), locked("bob", attacker), letIn("bob", owner),
		}},
		{"the owner's own typos lock only the owner's address", []step{
			burst("bob", owner, accountIPFreeFailures), locked("bob", owner), letIn("bob", other),
		}},
		{"one failure short of the account's lock", []step{
			spread("bob", "10.0.0.", 33, 3), // 99
			letIn("bob", owner),
		}},
		{"the account locks for everyone at its 100th failure", []step{
			spread("bob", "10.0.0.", accountFreeFailures/accountIPFreeFailures, accountIPFreeFailures),
			locked("bob", owner), locked("bob", other), letIn("alice", owner),
		}},
		{"a success resets the account's count", []step{
			spread("bob", "10.0.0.", 33, 3), letIn("bob", owner),
			spread("bob", "10.1.0.", 33, 3), letIn("bob", other),
		}},
		{"a success resets the count of its address", []step{
			burst("bob", owner, accountIPFreeFailures-1), letIn("bob", owner),
			burst("bob", owner, accountIPFreeFailures-1), letIn("bob", owner),
		}},
		{"an address spraying accounts is locked for all of them", []step{
			spray(attacker, ipFreeFailures), locked("carol", attacker), letIn("carol", owner),
		}},
		{"the account's lock ends", []step{
			spread("bob", "10.0.0.", accountFreeFailures/accountIPFreeFailures, accountIPFreeFailures),
			locked("bob", owner),
			func(s *loginSim) { s.now = s.now.Add(backoffBase) },
			letIn("bob", owner),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := &loginSim{t: t, b: NewBackoff(), now: time.Unix(1_700_000_000, 0)}
			for _, st := range tc.steps {
				st(s)
			}
		})
	}
}

func TestBackoffIsBounded(t *testing.T) {
	t.Parallel()
	b := NewBackoff()
	now := time.Unix(1_700_000_000, 0)
	for i := range backoffMaxKeys + 1000 {
		b.fail(now, "key"+strconv.Itoa(i), 5)
	}
	if len(b.m) > backoffMaxKeys || len(b.m) < backoffMaxKeys/2 {
		t.Fatalf("%d keys, bound %d", len(b.m), backoffMaxKeys)
	}
}

// TestBackoffKeysCoverIPv6Blocks: an IPv6 client holds a whole /64, so
// guesses from fresh addresses of one block share the per-IP and
// per-(account, IP) counters, on the login form, at setup and on the
// device page alike.
func TestBackoffKeysCoverIPv6Blocks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"2001:db8::1", "2001:db8::ffff:2", true},
		{"2001:db8:0:0:1::1", "2001:db8::9", true},
		{"2001:db8::1", "2001:db8:0:1::1", false},
		{"192.0.2.1", "::ffff:192.0.2.1", true},
		{"192.0.2.1", "192.0.2.2", false},
	} {
		ka, kb := newLoginKeys("bob", tc.a), newLoginKeys("bob", tc.b)
		if (ka.ip == kb.ip) != tc.same || (ka.accountIP == kb.accountIP) != tc.same {
			t.Errorf("%s and %s: shared ip key %v, account+ip %v; want %v", tc.a, tc.b, ka.ip == kb.ip, ka.accountIP == kb.accountIP, tc.same)
		}
		if ka.account != kb.account {
			t.Errorf("the account key depends on the address")
		}
	}
}
