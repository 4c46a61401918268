package authstore

import (
	"errors"
	"fmt"
)

// ActorScanner is the actor of a revocation a secret scanner asked for
// (POST /api/credentials/revoke): it proved nothing but holding the
// leaked credential.
const ActorScanner = "scanner"

// ScannerActor is a secret scanner reporting from client ip.
func ScannerActor(ip string) Actor { return Actor{Kind: ActorScanner, IP: ip} }

// RefreshSessionID returns the id of the session that refresh token tok
// (any link of its chain, used or not) belongs to, without rotating it.
// ErrUnknownToken when no refresh token hashes to it.
func (s *Store) RefreshSessionID(tok string) (string, error) {
	if err := CheckToken(RefreshPrefix, tok); err != nil {
		return "", err
	}
	h := HashToken(tok)
	var rec RefreshToken
	err := s.view("refresh_session", func(tx *Tx) error {
		return getJSON(tx.Bucket(bucketRefresh), h[:], &rec)
	})
	if errors.Is(err, ErrNotFound) {
		return "", ErrUnknownToken
	}
	if err != nil {
		return "", fmt.Errorf("refresh token: %w", err)
	}
	return rec.SessionID, nil
}
