package service

import (
	"sync"
	"time"
)

// Login backoff: a key may fail a few times freely; the failure that uses
// up its free failures locks it, and each further failure locks it for
// twice as long as the last, up to a cap. A locked key is refused before
// any password hashing, so a guesser costs the server nothing.
//
// A login is charged to three keys (loginKeys):
//   - the account from one client IP, with few free failures: someone
//     guessing from one address is slowed at once, but only there, so a
//     stranger cannot lock the owner out (the owner logs in from another
//     address meanwhile);
//   - the client IP across all accounts, so one client cannot spread
//     guesses over accounts (more free failures: several users may share
//     an IP behind a NAT);
//   - the account from anywhere, so a botnet cannot spread guesses over
//     IPs either. Only this key locks an account for everyone, and only
//     at its accountFreeFailures-th consecutive failure: 100, the most
//     NIST SP 800-63B §5.2.2 allows, so that locking an owner out takes
//     100 failures within a day (from 20 addresses at 5 each, or from one
//     address waiting out its locks for most of a day) instead of 5 from
//     anywhere. Past them each failure doubles the lock, and at the cap
//     the account gets about 100 guesses a day, whoever guesses.
//
// Checking the lock and counting the failure are one step (begin): an
// attempt is counted as a failure before its password is hashed, and
// settled afterwards. Were the check and the count apart, a burst of
// concurrent guesses would all pass the check before the first failure
// was counted, and all be hashed.
const (
	accountIPFreeFailures = 5
	ipFreeFailures        = 20 // several users may share an IP (NAT)
	accountFreeFailures   = 100
	setupFreeFailures     = 5 // per client IP
	backoffBase           = time.Second
	backoffCap            = 15 * time.Minute
	// backoffForget drops a key this long after its last failure.
	backoffForget = 24 * time.Hour
	// backoffMaxKeys bounds memory (about 100 bytes a key); when full,
	// forgotten keys are swept and then arbitrary unlocked ones evicted.
	backoffMaxKeys = 100_000
)

// Backoff counts failed attempts per key and locks keys that fail too
// often. One per store, owned by whoever keeps the store open (it must
// outlive a config reload), handed to the Service.
type Backoff struct {
	mu sync.Mutex
	m  map[string]*failures
	// Shared, if set (a fleet-mode store), makes locks fleet-wide: a key
	// locked on any edge is refused here too. Counting stays per edge.
	Shared SharedLocks
}

// SharedLocks publishes and reads locks across a fleet's edges
// (authstore.Store in fleet mode).
type SharedLocks interface {
	// SharedLock is when the fleet-wide lock on key ends (zero: none).
	SharedLock(key string) time.Time
	// ShareLock publishes a lock on key until then (zero lifts it),
	// without waiting for it.
	ShareLock(key string, until time.Time)
}

// NewBackoff is an empty backoff.
func NewBackoff() *Backoff { return &Backoff{m: map[string]*failures{}} }

type failures struct {
	n     int
	last  time.Time
	until time.Time
}

// Allowance is a key an attempt is charged to, and how many failures the key
// may have before it is locked.
type Allowance struct {
	Key  string
	Free int
}

// Attempt is a begun attempt: until it is settled otherwise, it counts as
// a failure of each of its keys.
type Attempt struct {
	b     *Backoff
	marks []mark
}

// mark is what an attempt did to one key, so that a refund undoes exactly
// that.
type mark struct {
	key string
	f   *failures
	// prev is the key's lock before the attempt; set is the lock the
	// attempt's provisional failure imposed (zero: none).
	prev, set time.Time
}

// Begin starts an attempt on the given keys in one step under the lock: if
// any key is locked it counts nothing and reports how long the lock lasts;
// otherwise it counts the attempt as a failure of every key (locking a key
// whose free failures it uses up) and returns the attempt. A failed
// attempt needs nothing more; a successful one or one that never reached
// the check is settled with clear or refund (RefundAll).
func (b *Backoff) Begin(now time.Time, limits ...Allowance) (*Attempt, time.Duration) {
	var longest time.Duration
	if b.Shared != nil {
		for _, l := range limits {
			if until := b.Shared.SharedLock(l.Key); until.After(now) {
				longest = max(longest, until.Sub(now))
			}
		}
	}
	a, wait := b.begin(now, longest, limits)
	if a != nil && b.Shared != nil {
		for _, m := range a.marks {
			if !m.set.IsZero() {
				b.Shared.ShareLock(m.key, m.set)
			}
		}
	}
	return a, wait
}

// begin is Begin under the lock, refusing if a shared lock already lasts
// longest.
func (b *Backoff) begin(now time.Time, longest time.Duration, limits []Allowance) (*Attempt, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, l := range limits {
		if f, ok := b.m[l.Key]; ok && f.until.After(now) {
			longest = max(longest, f.until.Sub(now))
		}
	}
	if longest > 0 {
		return nil, longest
	}
	a := &Attempt{b: b, marks: make([]mark, 0, len(limits))}
	for _, l := range limits {
		f := b.entry(now, l.Key)
		m := mark{key: l.Key, f: f, prev: f.until}
		f.n++
		f.last = now
		if over := f.n - l.Free; over >= 0 {
			f.until = now.Add(lockFor(over))
			m.set = f.until
		}
		a.marks = append(a.marks, m)
	}
	return a, 0
}

// lockFor is the lock after the failure that is over failures past the
// free ones: 1s, 2s, 4s… up to backoffCap.
func lockFor(over int) time.Duration {
	if over < 20 && backoffBase<<over < backoffCap {
		return backoffBase << over
	}
	return backoffCap
}

// entry returns key's counter, starting afresh when it was forgotten.
// Called with mu held.
func (b *Backoff) entry(now time.Time, key string) *failures {
	f, ok := b.m[key]
	if ok && now.Sub(f.last) <= backoffForget {
		return f
	}
	if !ok && len(b.m) >= backoffMaxKeys {
		b.evict(now)
	}
	f = &failures{}
	b.m[key] = f
	return f
}

// clear forgets key's failures altogether: a successful login clears its
// account. Not for IP keys: an attacker with one valid account must not be
// able to reset the IP's count by logging into it.
func (a *Attempt) clear(key string) {
	a.b.mu.Lock()
	lift := false
	for _, m := range a.marks {
		if m.key == key && a.b.m[key] == m.f {
			delete(a.b.m, key)
			lift = lift || !m.set.IsZero()
		}
	}
	a.b.mu.Unlock()
	if lift && a.b.Shared != nil {
		a.b.Shared.ShareLock(key, time.Time{})
	}
}

// refund takes back the attempt's provisional failure of key: the attempt
// turned out not to be a failure (a successful login, for its IP, so that
// people behind one NAT do not use up each other's free failures), or
// never reached the check (the server was busy). A lock the attempt
// imposed is lifted unless a later failure has replaced it.
func (a *Attempt) refund(key string) {
	a.b.mu.Lock()
	var lifted *time.Time
	for i, m := range a.marks {
		if m.key != key || m.f == nil || a.b.m[key] != m.f {
			continue
		}
		a.marks[i].f = nil // once only
		m.f.n--
		if !m.set.IsZero() && m.f.until.Equal(m.set) {
			m.f.until = m.prev
			prev := m.prev
			lifted = &prev
		}
		if m.f.n <= 0 {
			delete(a.b.m, key)
		}
	}
	a.b.mu.Unlock()
	if lifted != nil && a.b.Shared != nil {
		a.b.Shared.ShareLock(key, *lifted) // back to the lock before, if any
	}
}

// RefundAll refunds every key of the attempt.
func (a *Attempt) RefundAll() {
	for _, m := range a.marks {
		a.refund(m.key)
	}
}

// evict makes room: forgotten keys first, then unlocked ones. Called with
// mu held.
func (b *Backoff) evict(now time.Time) {
	for k, f := range b.m {
		if now.Sub(f.last) > backoffForget {
			delete(b.m, k)
		}
	}
	for k, f := range b.m {
		if len(b.m) < backoffMaxKeys*9/10 {
			return
		}
		if !f.until.After(now) {
			delete(b.m, k)
		}
	}
}

// loginKeys are the keys a password login is charged to (see the
// constants above).
type loginKeys struct {
	accountIP, ip, account string
}

func (k loginKeys) allowances() []Allowance {
	return []Allowance{{k.accountIP, accountIPFreeFailures}, {k.ip, ipFreeFailures}, {k.account, accountFreeFailures}}
}

// loginAttempt is a begun login. A failed one needs nothing more.
type loginAttempt struct {
	*Attempt
	keys loginKeys
}

// beginLogin begins a login attempt on keys (see begin): nil and the wait
// if any of them is locked.
func (b *Backoff) beginLogin(now time.Time, keys loginKeys) (*loginAttempt, time.Duration) {
	a, wait := b.Begin(now, keys.allowances()...)
	if a == nil {
		return nil, wait
	}
	return &loginAttempt{a, keys}, 0
}

// succeeded settles a login with the right credentials: the account's
// failures, from this IP and from anywhere, are forgotten, and the
// attempt's provisional failure is taken back from the IP.
func (a *loginAttempt) succeeded() {
	a.clear(a.keys.accountIP)
	a.clear(a.keys.account)
	a.refund(a.keys.ip)
}
