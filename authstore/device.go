package authstore

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// User codes are 8 letters from an alphabet without vowels (no words) or
// look-alikes, shown as WDJB-MJHT (RFC 8628 §6.1).
const (
	userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"
	userCodeLen      = 8
	// slowDownStep is what each slow_down adds to a grant's interval.
	slowDownStep = 5 * time.Second
	// deviceGrantRetention keeps a finished grant long enough to answer
	// its late polls clearly, then it is purged.
	deviceGrantRetention = time.Hour
)

// Device grant states.
const (
	DevicePending  = "pending"
	DeviceApproved = "approved"
	DeviceDenied   = "denied"
	DeviceConsumed = "consumed"
)

// Outcomes of a device-flow poll or decision that callers branch on.
var (
	ErrAuthorizationPending = errors.New("authorization pending")
	ErrSlowDown             = errors.New("slow down")
	ErrAccessDenied         = errors.New("access denied")
	ErrDeviceCodeUsed       = errors.New("device code already used")
)

// DeviceGrant is a pending, decided or consumed device authorization.
// Neither the device code nor the user code is stored, only their hashes.
type DeviceGrant struct {
	ClientID string `json:"client_id"`
	// What the client asked for; the browser's choices win.
	Scopes      []string `json:"scopes,omitempty"`
	TokenName   string   `json:"token_name,omitempty"`
	ExpiresDays int      `json:"expires_days,omitempty"`
	// Who asked, shown on the approval page.
	IP        string    `json:"ip,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`

	// Interval is the polling interval first given to the client; slow_down
	// increments live in the poll tracker.
	Interval   time.Duration `json:"interval"`
	LastPollAt time.Time     `json:"last_poll_at,omitzero"`
	Status     string        `json:"status"`

	// Set by the decision.
	UserID    string    `json:"user_id,omitempty"`
	Approval  *NewPAT   `json:"approval,omitempty"`
	DecidedAt time.Time `json:"decided_at,omitzero"`
	TokenID   string    `json:"token_id,omitempty"`
}

// NewDeviceGrant is a device authorization request.
type NewDeviceGrant struct {
	ClientID    string
	Scopes      []string
	TokenName   string
	ExpiresDays int
	IP          string
	UserAgent   string
	TTL         time.Duration
	Interval    time.Duration
}

// NormalizeUserCode upper-cases a typed user code and drops dashes and
// spaces, so "wdjb mjht" and "WDJB-MJHT" are the same code.
func NormalizeUserCode(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '-' || r == ' ':
		case r >= 'a' && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// FormatUserCode shows a normalised code as WDJB-MJHT.
func FormatUserCode(code string) string {
	if len(code) != userCodeLen {
		return code
	}
	return code[:4] + "-" + code[4:]
}

// CreateDeviceGrant starts a device authorization and returns the device
// code (for the client, 256 bits) and the user code (for the person). A
// suggested token name must pass CheckTokenName (else ErrInvalidName); the
// User-Agent is kept as SanitizeUserAgent leaves it.
func (s *Store) CreateDeviceGrant(n NewDeviceGrant) (deviceCode, userCode string, err error) {
	if n.TokenName != "" {
		if n.TokenName, err = CheckTokenName(n.TokenName); err != nil {
			return "", "", err
		}
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", "", fmt.Errorf("device code: %w", err)
	}
	deviceCode = base64.RawURLEncoding.EncodeToString(raw)
	dk := HashToken(deviceCode)
	now := s.now().UTC()
	g := &DeviceGrant{
		ClientID: n.ClientID, Scopes: n.Scopes, TokenName: n.TokenName, ExpiresDays: n.ExpiresDays,
		IP: n.IP, UserAgent: SanitizeUserAgent(n.UserAgent), CreatedAt: now, ExpiresAt: now.Add(n.TTL),
		Interval: n.Interval, Status: DevicePending,
	}
	err = s.update("create_device_grant", func(tx *Tx) error {
		users := tx.Bucket(bucketDeviceUsers)
		// 20^8 codes: a collision with a live code is rare; draw again.
		for range 10 {
			code, err := randomUserCode()
			if err != nil {
				return err
			}
			uk := userCodeKey(code)
			if users.Get(uk[:]) != nil {
				continue
			}
			userCode = code
			if err := users.Put(uk[:], dk[:]); err != nil {
				return err
			}
			return putJSON(tx.Bucket(bucketDevice), dk[:], g)
		}
		return errors.New("no free user code")
	})
	if err != nil {
		return "", "", fmt.Errorf("create device grant: %w", err)
	}
	return deviceCode, userCode, nil
}

// DeviceGrantByUserCode returns the grant a typed user code names. An
// unknown or purged code is ErrNotFound; expiry and state are the
// caller's to show.
func (s *Store) DeviceGrantByUserCode(userCode string) (*DeviceGrant, error) {
	code := NormalizeUserCode(userCode)
	if len(code) != userCodeLen {
		return nil, ErrNotFound
	}
	uk := userCodeKey(code)
	var g DeviceGrant
	err := s.view("device_grant_by_user_code", func(tx *Tx) error {
		dk := tx.Bucket(bucketDeviceUsers).Get(uk[:])
		if dk == nil {
			return ErrNotFound
		}
		return getJSON(tx.Bucket(bucketDevice), dk, &g)
	})
	if err != nil {
		return nil, err
	}
	return &g, nil
}

// DecideDevice approves (with approval, the PAT to mint for userID) or
// denies the pending grant named by userCode. A grant that expired or was
// already decided is ErrExpired or ErrDeviceCodeUsed, and an approval
// whose token name CheckTokenName refuses is ErrInvalidName; either way
// the grant stays unchanged.
func (s *Store) DecideDevice(userCode, userID string, approval *NewPAT, actor Actor) (*DeviceGrant, error) {
	code := NormalizeUserCode(userCode)
	uk := userCodeKey(code)
	var g DeviceGrant
	err := s.update("decide_device", func(tx *Tx) error {
		dk := tx.Bucket(bucketDeviceUsers).Get(uk[:])
		if dk == nil || len(code) != userCodeLen {
			return ErrNotFound
		}
		dk = append([]byte(nil), dk...)
		if err := getJSON(tx.Bucket(bucketDevice), dk, &g); err != nil {
			return err
		}
		now := s.now().UTC()
		switch {
		case g.Status != DevicePending:
			return ErrDeviceCodeUsed
		case !now.Before(g.ExpiresAt):
			return ErrExpired
		}
		g.UserID, g.DecidedAt = userID, now
		action := ActionDeviceDenied
		if approval != nil {
			a := *approval
			a.UserID = userID
			name, err := CheckTokenName(a.Name)
			if err != nil {
				return err
			}
			a.Name = name
			g.Status, g.Approval, action = DeviceApproved, &a, ActionDeviceApproved
		} else {
			g.Status = DeviceDenied
		}
		if err := putJSON(tx.Bucket(bucketDevice), dk, &g); err != nil {
			return err
		}
		return s.unsafeAudit(tx, Event{Action: action, Actor: actor, UserID: userID, Detail: g.ClientID})
	})
	if err != nil {
		return nil, fmt.Errorf("decide device grant: %w", err)
	}
	return &g, nil
}

// PollDevice is one token request of client clientID holding deviceCode.
// Outcomes: ErrAuthorizationPending, ErrSlowDown (the client polled
// within its interval, which grew by 5s), ErrAccessDenied, ErrExpired,
// ErrNotFound (unknown or purged code, or another client's),
// ErrDeviceCodeUsed. On approval the
// PAT is minted and the grant consumed in one transaction, and the token
// is returned, once.
//
// A pending poll costs one read transaction: the interval check and the
// last-poll update are one step under the poll tracker's lock, in memory,
// since losing them in a crash costs at most one unenforced slow_down.
func (s *Store) PollDevice(deviceCode, clientID string) (string, *PAT, *DeviceGrant, error) {
	dk, g, err := s.pollDevice(deviceCode, clientID)
	if err != nil {
		return "", nil, g, err
	}
	return s.consumeDevice(dk)
}

// PollDeviceSession is PollDevice for a client that asked for a CLI
// session instead of a PAT: the approved grant is consumed, in the same
// transaction, by a new CLI session of its user (n.UserID is taken from
// the grant) and its first refresh token, returned in plaintext once. The
// refusals are PollDevice's.
func (s *Store) PollDeviceSession(deviceCode, clientID string, n NewSession) (*Session, string, *DeviceGrant, error) {
	dk, g, err := s.pollDevice(deviceCode, clientID)
	if err != nil {
		return nil, "", g, err
	}
	n.Kind = SessionCLI
	tok, err := NewToken(RefreshPrefix)
	if err != nil {
		return nil, "", g, err
	}
	var (
		grant DeviceGrant
		sess  *Session
	)
	err = s.update("poll_device_session", func(tx *Tx) error {
		b := tx.Bucket(bucketDevice)
		if err := getJSON(b, dk[:], &grant); err != nil {
			return err
		}
		if grant.Status != DeviceApproved || grant.Approval == nil {
			return ErrDeviceCodeUsed
		}
		u, err := unsafeUser(tx, grant.Approval.UserID)
		if err != nil {
			return err
		}
		if u.Disabled {
			return ErrUserDisabled
		}
		n.UserID = u.ID
		if sess, err = s.unsafeCreateSession(tx, n, UserActor(u.ID, grant.IP)); err != nil {
			return err
		}
		if err := s.unsafeAddRefresh(tx, sess, tok, "", 1); err != nil {
			return err
		}
		grant.Status, grant.LastPollAt = DeviceConsumed, s.now().UTC()
		return putJSON(b, dk[:], &grant)
	})
	if err != nil {
		return nil, "", &grant, err
	}
	return sess, tok, &grant, nil
}

// pollDevice is the part of a poll that only reads: the grant must be
// the client's, approved, unexpired and not yet consumed; a pending one
// is held to its interval.
func (s *Store) pollDevice(deviceCode, clientID string) (TokenHash, *DeviceGrant, error) {
	dk := HashToken(deviceCode)
	var g DeviceGrant
	err := s.view("poll_device", func(tx *Tx) error {
		return getJSON(tx.Bucket(bucketDevice), dk[:], &g)
	})
	if err == nil && g.ClientID != clientID {
		err = ErrNotFound
	}
	if err != nil {
		return dk, nil, err
	}
	now := s.now().UTC()
	switch {
	case g.Status == DeviceConsumed:
		return dk, &g, ErrDeviceCodeUsed
	case g.Status == DeviceDenied:
		return dk, &g, ErrAccessDenied
	case !now.Before(g.ExpiresAt):
		// Approved or not, an expired device code yields nothing (RFC 8628
		// §3.5): the client polled too late.
		return dk, &g, ErrExpired
	case g.Status == DevicePending:
		if interval, slow := s.polls.poll(dk, now, g.Interval, g.ExpiresAt); slow {
			g.Interval = interval
			return dk, &g, ErrSlowDown
		}
		return dk, &g, ErrAuthorizationPending
	}
	return dk, &g, nil
}

// consumeDevice mints the approved grant's PAT and marks the grant
// consumed in one transaction, so of two racing polls only one gets it.
func (s *Store) consumeDevice(dk TokenHash) (string, *PAT, *DeviceGrant, error) {
	var (
		g   DeviceGrant
		tok string
		pat *PAT
	)
	err := s.update("poll_device", func(tx *Tx) error {
		b := tx.Bucket(bucketDevice)
		if err := getJSON(b, dk[:], &g); err != nil {
			return err
		}
		if g.Status != DeviceApproved || g.Approval == nil {
			return ErrDeviceCodeUsed
		}
		n := *g.Approval
		var err error
		if tok, err = NewToken(n.Prefix); err != nil {
			return err
		}
		id, err := randomID("tok_")
		if err != nil {
			return err
		}
		now := s.now().UTC()
		pat = &PAT{
			ID: id, UserID: n.UserID, Name: n.Name, Hint: TokenHint(n.Prefix, tok), Scopes: n.Scopes,
			ResourceCaps: n.ResourceCaps, CreatedAt: now, ExpiresAt: n.ExpiresAt, CreatedVia: ViaDevice,
		}
		if err := s.unsafeInsertPAT(tx, HashToken(tok), pat, UserActor(n.UserID, g.IP)); err != nil {
			return err
		}
		g.Status, g.TokenID, g.LastPollAt = DeviceConsumed, id, now
		return putJSON(b, dk[:], &g)
	})
	if err != nil {
		return "", nil, &g, err
	}
	return tok, pat, &g, nil
}

// pollTracker enforces each pending grant's polling interval.
type pollTracker struct {
	mu sync.Mutex
	m  map[TokenHash]*pollState
}

type pollState struct {
	last     time.Time
	interval time.Duration
	expires  time.Time
}

// poll records a poll at now and reports whether it came too soon, in
// which case the grant's interval grows by slowDownStep (RFC 8628 §3.5).
func (t *pollTracker) poll(dk TokenHash, now time.Time, interval time.Duration, expires time.Time) (time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	st, ok := t.m[dk]
	if !ok {
		t.m[dk] = &pollState{last: now, interval: interval, expires: expires}
		return interval, false
	}
	// Clients poll on a ticker, so a poll made exactly one interval later
	// may arrive a hair early; a little slack spares honest clients a
	// spurious slow_down.
	slack := min(st.interval/10, 500*time.Millisecond)
	slow := now.Sub(st.last) < st.interval-slack
	if slow {
		st.interval += slowDownStep
	}
	st.last = now
	return st.interval, slow
}

func (t *pollTracker) purge(cutoff time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, st := range t.m {
		if st.expires.Before(cutoff) {
			delete(t.m, k)
		}
	}
}

// purgeDeviceGrants drops grants finished or expired for longer than the
// retention, with their user-code index entries. It runs every minute and
// there is usually nothing to drop, so it looks in a read transaction
// first and takes the write lock (and an fsync) only when something is
// stale; the write re-checks each record, so a grant changed in between
// is left alone.
func (s *Store) purgeDeviceGrants() error {
	now := s.now()
	s.polls.purge(now)
	cutoff := now.Add(-deviceGrantRetention)
	var grants, codes [][]byte
	err := s.view("find_stale_device_grants", func(tx *Tx) error {
		b := tx.Bucket(bucketDevice)
		stale := map[string]bool{}
		err := b.ForEach(func(k, v []byte) error {
			if staleDeviceGrant(v, cutoff) {
				grants = append(grants, bytes.Clone(k))
				stale[string(k)] = true
			}
			return nil
		})
		if err != nil {
			return err
		}
		return tx.Bucket(bucketDeviceUsers).ForEach(func(k, dk []byte) error {
			if stale[string(dk)] || b.Get(dk) == nil {
				codes = append(codes, bytes.Clone(k))
			}
			return nil
		})
	})
	if err != nil || len(grants)+len(codes) == 0 {
		return err
	}
	return s.update("purge_device_grants", func(tx *Tx) error {
		b, users := tx.Bucket(bucketDevice), tx.Bucket(bucketDeviceUsers)
		for _, k := range grants {
			if v := b.Get(k); v != nil && staleDeviceGrant(v, cutoff) {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
		}
		for _, k := range codes {
			if dk := users.Get(k); dk != nil && b.Get(dk) == nil {
				if err := users.Delete(k); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// staleDeviceGrant reports whether the stored grant v expired before
// cutoff; an unreadable record is stale too.
func staleDeviceGrant(v []byte, cutoff time.Time) bool {
	var g struct {
		ExpiresAt time.Time `json:"expires_at"`
	}
	return decodeJSON(v, &g) != nil || g.ExpiresAt.Before(cutoff)
}

func userCodeKey(code string) TokenHash {
	return sha256.Sum256([]byte("user-code:" + code))
}

// randomUserCode draws 8 letters uniformly by rejection sampling: bytes at
// or above 240 (12*20) are dropped, so no letter is favoured.
func randomUserCode() (string, error) {
	out := make([]byte, 0, userCodeLen)
	var buf [16]byte
	for len(out) < userCodeLen {
		if _, err := rand.Read(buf[:]); err != nil {
			return "", fmt.Errorf("user code: %w", err)
		}
		for _, b := range buf {
			if b < 240 && len(out) < userCodeLen {
				out = append(out, userCodeAlphabet[b%20])
			}
		}
	}
	return string(out), nil
}
