package authstore

import (
	"errors"
	"fmt"
	"time"
)

// SetupPrefix starts first-admin setup tokens.
const SetupPrefix = "ghs_"

// ErrSetupUnavailable means there is no setup grant to use: setup was done
// (a human account exists), or no grant was offered.
var ErrSetupUnavailable = errors.New("setup is not available: user accounts exist or no setup token was issued")

// First-admin setup is open until a human account exists. Agent accounts
// do not count: with open registration anyone can make one, and an
// anonymous request must never be able to end setup (logins.go keeps the
// two kinds in separate namespaces, so the check is one cursor step).

// setupGrant is the stored form of the first-admin setup token: only its
// hash, and when it stops working.
type setupGrant struct {
	Hash      TokenHash `json:"hash"`
	ExpiresAt time.Time `json:"expires_at"`
}

// CreateSetupGrant issues a one-time token that lets whoever holds it
// create the first human account, valid for ttl. It replaces any earlier
// grant, and fails with ErrSetupUnavailable once a human account exists.
func (s *Store) CreateSetupGrant(ttl time.Duration) (string, time.Time, error) {
	tok, err := NewToken(SetupPrefix)
	if err != nil {
		return "", time.Time{}, err
	}
	g := setupGrant{Hash: HashToken(tok), ExpiresAt: s.now().UTC().Add(ttl)}
	err = s.update("create_setup_grant", func(tx *Tx) error {
		if unsafeHumansExist(tx) {
			return ErrSetupUnavailable
		}
		return putJSON(tx.Bucket(bucketMeta), keySetup, &g)
	})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("create setup token: %w", err)
	}
	return tok, g.ExpiresAt, nil
}

// SetupPending reports whether an unexpired setup grant waits to be used.
func (s *Store) SetupPending() bool {
	pending := false
	_ = s.view("setup_pending", func(tx *Tx) error {
		var g setupGrant
		if getJSON(tx.Bucket(bucketMeta), keySetup, &g) == nil {
			pending = s.now().Before(g.ExpiresAt) && !unsafeHumansExist(tx)
		}
		return nil
	})
	return pending
}

// UseSetupGrant spends the setup token tok to create the first account,
// with every scope, the administrator role and the given password hash, in one transaction with
// the grant's deletion: the token works once. A wrong token is
// ErrBadCredentials, an expired one ErrExpired, and a store that already
// has a human account (or never offered setup) ErrSetupUnavailable. A
// login an agent holds is ErrExists and leaves the grant usable.
func (s *Store) UseSetupGrant(tok string, n NewUser, passwordHash string, actor Actor) (*User, error) {
	login, err := NormalizeLogin(n.Login)
	if err != nil {
		return nil, err
	}
	if err := ValidatePasswordHash(passwordHash); err != nil {
		return nil, err
	}
	if CheckToken(SetupPrefix, tok) != nil {
		return nil, ErrBadCredentials
	}
	id, err := randomID("usr_")
	if err != nil {
		return nil, err
	}
	// The first account is the administrator: setup exists to make one.
	u := &User{ID: id, Login: login, Kind: KindHuman, Tier: n.Tier, Admin: true, CreatedAt: s.now().UTC(), PasswordHash: passwordHash}
	presented := HashToken(tok)
	err = s.update("use_setup_grant", func(tx *Tx) error {
		if err := s.unsafeCheckSetupToken(tx, presented); err != nil {
			return err
		}
		if err := tx.Bucket(bucketMeta).Delete(keySetup); err != nil {
			return err
		}
		actor.UserID = id
		return s.unsafeInsertUser(tx, u, actor)
	})
	if err != nil {
		return nil, fmt.Errorf("first-admin setup: %w", err)
	}
	return u, nil
}
