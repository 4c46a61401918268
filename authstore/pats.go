package authstore

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// How a PAT came to be, recorded as PAT.CreatedVia.
const (
	ViaAdmin    = "admin"
	ViaWeb      = "web"
	ViaDevice   = "device"
	ViaCLI      = "cli"
	ViaRegister = "register"
)

// PAT is a personal access token's record; the token itself is never stored.
type PAT struct {
	ID     string   `json:"id"`
	UserID string   `json:"user_id"`
	Name   string   `json:"name"`
	Hint   string   `json:"hint"`
	Scopes []string `json:"scopes"`
	// ResourceCaps limits the token per resource ("project:atlas" -> "read");
	// nil means every resource at the owner's current membership role, and
	// an empty map no resource at all. The tag has no omitempty so the two
	// survive a round trip: JSON null reads back as nil, {} as empty.
	ResourceCaps map[string]string `json:"resource_caps"`
	CreatedAt    time.Time         `json:"created_at"`
	// ExpiresAt is zero for a token that never expires.
	ExpiresAt  time.Time `json:"expires_at,omitzero"`
	CreatedVia string    `json:"created_via"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
	LastUsedIP string    `json:"last_used_ip,omitempty"`
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
}

// Status is a PAT's state at time now: "active", "expired" or "revoked".
func (p *PAT) Status(now time.Time) string {
	switch {
	case !p.RevokedAt.IsZero():
		return "revoked"
	case !p.ExpiresAt.IsZero() && !now.Before(p.ExpiresAt):
		return "expired"
	}
	return "active"
}

// NewPAT describes a token to mint.
type NewPAT struct {
	UserID       string
	Prefix       string
	Name         string
	Scopes       []string
	ResourceCaps map[string]string
	ExpiresAt    time.Time // zero: never
	CreatedVia   string
}

// patEntry is the cached form of a PAT; lastNoted throttles last-used
// stamps to one a minute per token without a lock on the request path.
type patEntry struct {
	pat       *PAT
	lastNoted atomic.Int64
}

// touchEvery is how often, at most, a token's last use is recorded.
const touchEvery = time.Minute

// CreatePAT mints a token for n.UserID and returns its plaintext, which is
// never available again, and its record.
func (s *Store) CreatePAT(n NewPAT, actor Actor) (string, *PAT, error) {
	tok, p, err := s.newPATRecord(n)
	if err != nil {
		return "", nil, err
	}
	if _, err := s.insertPAT(tok, p, actor); err != nil {
		return "", nil, err
	}
	return tok, p, nil
}

// newPATRecord checks n (a name CheckTokenName refuses is
// ErrInvalidName), draws a fresh token and builds its record without
// storing it.
func (s *Store) newPATRecord(n NewPAT) (string, *PAT, error) {
	if err := ValidatePrefix(n.Prefix); err != nil {
		return "", nil, err
	}
	name, err := CheckTokenName(n.Name)
	if err != nil {
		return "", nil, err
	}
	tok, err := NewToken(n.Prefix)
	if err != nil {
		return "", nil, err
	}
	id, err := randomID("tok_")
	if err != nil {
		return "", nil, err
	}
	now := s.now().UTC()
	p := &PAT{
		ID: id, UserID: n.UserID, Name: name, Hint: TokenHint(n.Prefix, tok),
		Scopes: n.Scopes, ResourceCaps: n.ResourceCaps, CreatedAt: now,
		ExpiresAt: n.ExpiresAt.UTC(), CreatedVia: n.CreatedVia,
	}
	if p.Scopes == nil {
		p.Scopes = []string{}
	}
	return tok, p, nil
}

func (s *Store) insertPAT(tok string, p *PAT, actor Actor) (TokenHash, error) {
	h := HashToken(tok)
	err := s.update("create_pat", func(tx *Tx) error {
		return s.unsafeInsertPAT(tx, h, p, actor)
	})
	if err != nil {
		return h, fmt.Errorf("create token for %s: %w", p.UserID, err)
	}
	return h, nil
}

// unsafeInsertPAT writes a new token and its indexes inside tx.
func (s *Store) unsafeInsertPAT(tx *Tx, h TokenHash, p *PAT, actor Actor) error {
	owner, err := unsafeUser(tx, p.UserID)
	if err != nil {
		return err
	}
	if owner.Disabled {
		return fmt.Errorf("user %s: %w", owner.Login, ErrUserDisabled)
	}
	if err := putJSON(tx.Bucket(bucketPATs), h[:], p); err != nil {
		return err
	}
	if err := tx.Bucket(bucketPATIDs).Put([]byte(p.ID), h[:]); err != nil {
		return err
	}
	if err := tx.Bucket(bucketUserPATs).Put(indexKey(p.UserID, p.ID), nil); err != nil {
		return err
	}
	return s.unsafeAudit(tx, Event{Action: ActionTokenCreated, Actor: actor, UserID: p.UserID, TokenID: p.ID, Detail: p.CreatedVia})
}

// VerifyPAT checks a presented token (already checked with CheckToken) and
// returns it with its owner. Expired, revoked, unknown tokens and disabled
// owners are ErrExpired, ErrRevoked, ErrUnknownToken, ErrUserDisabled.
// A successful use from ip is recorded, at most once a minute per token,
// off the request path.
func (s *Store) VerifyPAT(tok, ip string) (*PAT, *User, error) {
	h := HashToken(tok)
	e, err := s.patEntry(h)
	if err != nil {
		return nil, nil, err
	}
	p := e.pat
	now := s.now()
	if err := s.checkFreshAt(now); err != nil {
		return nil, nil, err
	}
	if !p.RevokedAt.IsZero() {
		return p, nil, ErrRevoked
	}
	if !p.ExpiresAt.IsZero() && !now.Before(p.ExpiresAt) {
		return p, nil, ErrExpired
	}
	u, err := s.User(p.UserID)
	if err != nil {
		return p, nil, err
	}
	if u.Disabled {
		return p, u, ErrUserDisabled
	}
	if last := e.lastNoted.Load(); now.UnixNano()-last >= int64(touchEvery) && e.lastNoted.CompareAndSwap(last, now.UnixNano()) {
		s.touches.note(p.ID, now, ip)
	}
	return p, u, nil
}

// patEntry returns the cached form of the token hashed to h, reading
// the store on a miss.
func (s *Store) patEntry(h TokenHash) (*patEntry, error) {
	e, err := s.pats.load(h, func() (*patEntry, error) {
		var p PAT
		if err := s.view("verify_pat", func(tx *Tx) error {
			return getJSON(tx.Bucket(bucketPATs), h[:], &p)
		}); err != nil {
			return nil, err
		}
		e := &patEntry{pat: &p}
		e.lastNoted.Store(p.LastUsedAt.UnixNano())
		return e, nil
	})
	if errors.Is(err, ErrNotFound) {
		return nil, ErrUnknownToken
	}
	if err != nil {
		return nil, fmt.Errorf("verify token: %w", err)
	}
	return e, nil
}

// PAT returns the record of the token with the given public id.
func (s *Store) PAT(id string) (*PAT, error) {
	var p PAT
	err := s.view("pat", func(tx *Tx) error {
		h := tx.Bucket(bucketPATIDs).Get([]byte(id))
		if h == nil {
			return ErrNotFound
		}
		return getJSON(tx.Bucket(bucketPATs), h, &p)
	})
	if err != nil {
		return nil, fmt.Errorf("token %s: %w", id, err)
	}
	return &p, nil
}

// PATs lists the tokens of userID (every token when userID is empty),
// revoked and expired ones included, oldest first.
func (s *Store) PATs(userID string) ([]*PAT, error) {
	var out []*PAT
	err := s.view("pats", func(tx *Tx) (err error) {
		ids := tx.Bucket(bucketPATIDs)
		out, err = unsafeListRecords[PAT](tx, bucketPATs, bucketUserPATs, userID, ids.Get)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	slices.SortFunc(out, func(a, b *PAT) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// RevokePAT marks the token revoked. The verified-token cache forgets it
// before RevokePAT returns, so the next request with it is refused.
// Revoking an already revoked token is not an error; the record is
// returned unchanged.
func (s *Store) RevokePAT(id string, actor Actor) (*PAT, error) {
	var (
		p PAT
		h TokenHash
	)
	err := s.update("revoke_pat", func(tx *Tx) error {
		hb := tx.Bucket(bucketPATIDs).Get([]byte(id))
		if hb == nil {
			return ErrNotFound
		}
		copy(h[:], hb)
		if err := getJSON(tx.Bucket(bucketPATs), h[:], &p); err != nil {
			return err
		}
		if !p.RevokedAt.IsZero() {
			return nil
		}
		p.RevokedAt = s.now().UTC()
		if err := putJSON(tx.Bucket(bucketPATs), h[:], &p); err != nil {
			return err
		}
		return s.unsafeAudit(tx, Event{Action: ActionTokenRevoked, Actor: actor, UserID: p.UserID, TokenID: p.ID})
	})
	if err != nil {
		return nil, fmt.Errorf("revoke token %s: %w", id, err)
	}
	s.pats.invalidate(h)
	return &p, nil
}

// PATByToken returns the record of a plaintext token whatever its state
// (revocation endpoints accept the token itself, RFC 7009 style).
func (s *Store) PATByToken(tok string) (*PAT, error) {
	e, err := s.patEntry(HashToken(tok))
	if err != nil {
		return nil, err
	}
	return e.pat, nil
}
