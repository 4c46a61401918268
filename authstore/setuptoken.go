package authstore

import (
	"crypto/subtle"
	"errors"
)

// CheckSetupToken reports whether tok is the token of the pending setup
// grant, without writing anything. The setup form asks before it hashes
// the new administrator's password, so a guessed token costs the server a
// SHA-256, not an argon2id hash. Outcomes are UseSetupGrant's
// (ErrBadCredentials, ErrExpired, ErrSetupUnavailable); UseSetupGrant
// checks again in its own transaction, which is what makes the token
// single-use.
func (s *Store) CheckSetupToken(tok string) error {
	if CheckToken(SetupPrefix, tok) != nil {
		return ErrBadCredentials
	}
	presented := HashToken(tok)
	return s.view("check_setup_token", func(tx *Tx) error {
		return s.unsafeCheckSetupToken(tx, presented)
	})
}

// unsafeCheckSetupToken checks a presented token's hash against the
// pending grant inside tx.
func (s *Store) unsafeCheckSetupToken(tx *Tx, presented TokenHash) error {
	var g setupGrant
	if err := getJSON(tx.Bucket(bucketMeta), keySetup, &g); err != nil {
		if errors.Is(err, ErrNotFound) {
			return ErrSetupUnavailable
		}
		return err
	}
	if unsafeHumansExist(tx) {
		return ErrSetupUnavailable
	}
	if subtle.ConstantTimeCompare(presented[:], g.Hash[:]) != 1 {
		return ErrBadCredentials
	}
	if !s.now().Before(g.ExpiresAt) {
		return ErrExpired
	}
	return nil
}
