package authstore

import (
	"context"
	"errors"
	"fmt"
)

// CheckLogin verifies a login, password and (when the account has TOTP)
// one-time code, and returns the account. Every failure is
// ErrBadCredentials, whatever was wrong, and costs one password hash even
// for unknown logins, so neither the answer nor its timing tells which
// accounts exist. Only a caller who got everything right learns that the
// account is disabled (ErrUserDisabled). Failures are recorded in the
// audit trail as login.failed, with the account when it exists and never
// the login as typed (people type passwords into login fields). The hash
// waits for a slot only while ctx lasts; a full queue is ErrBusy, and
// neither that nor a cancelled ctx is recorded as a failure.
//
// The one exception to the single answer: the right password for an
// account with TOTP, sent without any code, is ErrTOTPRequired (which
// also matches ErrBadCredentials), so that a CLI can ask for the code
// after the password, as GitHub's does. It reveals only what the caller
// proved by knowing the password, and is recorded as a failure.
func (s *Store) CheckLogin(ctx context.Context, login, password, code, ip string) (*User, error) {
	u, err := s.UserByLogin(login)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	stored := fakeHash()
	if u != nil && u.PasswordHash != "" {
		stored = u.PasswordHash
	}
	ok, err := verifyPassword(ctx, stored, password)
	if err != nil {
		return nil, fmt.Errorf("check password: %w", err)
	}
	reason := ""
	switch {
	case u == nil:
		reason = "unknown login"
	case u.PasswordHash == "":
		reason = "no password set"
	case !ok:
		reason = "wrong password"
	case u.TOTPSecret != "" && code == "":
		reason = "one-time code missing"
	case u.TOTPSecret != "" && !s.checkTOTP(u, code, s.now()):
		// A recovery code stands in for the TOTP code, once.
		used, err := s.useRecoveryCode(u, code)
		if err != nil {
			return nil, err
		}
		if !used {
			reason = "wrong one-time code"
		}
	}
	if reason != "" {
		userID := ""
		if u != nil {
			userID = u.ID
		}
		if err := s.recordLoginFailure(userID, ip, reason); err != nil {
			return nil, err
		}
		if reason == "one-time code missing" {
			// The password was right: the caller may say so (the CLI then
			// asks for the code), and still counts it as a failure.
			return nil, ErrTOTPRequired
		}
		return nil, ErrBadCredentials
	}
	if u.Disabled {
		return u, ErrUserDisabled
	}
	return u, nil
}

func (s *Store) recordLoginFailure(userID, ip, reason string) error {
	return s.update("record_login_failure", func(tx *Tx) error {
		return s.unsafeAudit(tx, Event{Action: ActionLoginFailed, Actor: UserActor(userID, ip), UserID: userID, Detail: reason})
	})
}

// PasswordMatches reports whether pw is u's password (the security
// page's "current password"), costing one hash like a login; the
// caller puts it behind the failed-login backoff.
func PasswordMatches(ctx context.Context, u *User, pw string) (bool, error) {
	if u.PasswordHash == "" {
		return false, nil
	}
	ok, err := verifyPassword(ctx, u.PasswordHash, pw)
	if err != nil {
		return false, fmt.Errorf("check password: %w", err)
	}
	return ok, nil
}

// SetPassword stores a password hash (from HashPassword, or an imported
// argon2id or bcrypt hash) for the user.
func (s *Store) SetPassword(login, hash string, actor Actor) (*User, error) {
	if err := ValidatePasswordHash(hash); err != nil {
		return nil, err
	}
	return s.UpdateUser(login, actor, "password set", func(u *User) error {
		u.PasswordHash = hash
		return nil
	})
}
