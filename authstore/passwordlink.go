package authstore

import (
	"crypto/subtle"
	"fmt"
	"time"
)

// PasswordLinkPrefix starts the tokens of one-time password links.
const PasswordLinkPrefix = "ghl_"

// PasswordLink is the stored form of a one-time password-setting link:
// the hash of its token and when it stops working.
type PasswordLink struct {
	Hash      TokenHash `json:"hash"`
	ExpiresAt time.Time `json:"expires_at"`
}

// IssuePasswordLink gives the user with login a fresh one-time link
// token, valid for ttl, replacing any earlier one; the administrator
// hands the link over instead of typing a password for someone.
func (s *Store) IssuePasswordLink(login string, ttl time.Duration, actor Actor) (string, time.Time, error) {
	tok, err := NewToken(PasswordLinkPrefix)
	if err != nil {
		return "", time.Time{}, err
	}
	link := &PasswordLink{Hash: HashToken(tok), ExpiresAt: s.now().UTC().Add(ttl)}
	if _, err := s.UpdateUser(login, actor, "password link issued", func(u *User) error {
		u.PasswordLink = link
		return nil
	}); err != nil {
		return "", time.Time{}, err
	}
	return tok, link.ExpiresAt, nil
}

// UsePasswordLink sets the password hash of the user with login if tok
// is their unexpired link token, and spends the link in the same
// transaction, so it works once. A wrong, used or expired token is
// ErrBadCredentials (which one is not told).
func (s *Store) UsePasswordLink(login, tok, passwordHash string, actor Actor) (*User, error) {
	if err := ValidatePasswordHash(passwordHash); err != nil {
		return nil, err
	}
	if CheckToken(PasswordLinkPrefix, tok) != nil {
		return nil, ErrBadCredentials
	}
	presented := HashToken(tok)
	u, err := s.UpdateUser(login, actor, "password set with link", func(u *User) error {
		l := u.PasswordLink
		if l == nil || subtle.ConstantTimeCompare(l.Hash[:], presented[:]) != 1 || !s.now().Before(l.ExpiresAt) {
			return ErrBadCredentials
		}
		u.PasswordHash, u.PasswordLink = passwordHash, nil
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("password link: %w", err)
	}
	return u, nil
}

// CheckPasswordLink reports whether tok is the unexpired link token of
// the user with login, without spending it (the page checks the link
// before it hashes a password).
func (s *Store) CheckPasswordLink(login, tok string) error {
	if CheckToken(PasswordLinkPrefix, tok) != nil {
		return ErrBadCredentials
	}
	u, err := s.UserByLogin(login)
	if err != nil {
		return ErrBadCredentials
	}
	presented := HashToken(tok)
	if l := u.PasswordLink; l == nil || subtle.ConstantTimeCompare(l.Hash[:], presented[:]) != 1 || !s.now().Before(l.ExpiresAt) {
		return ErrBadCredentials
	}
	return nil
}
