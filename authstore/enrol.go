package authstore

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/pquerna/otp/totp"
)

// Self-service second factor: a user enrols TOTP from the security page
// (a pending seed, switched on only once a code it generates is typed),
// gets recovery codes shown once, and turns it off with a fresh code.

// RecoveryCodeCount is how many recovery codes an enrolment issues.
const RecoveryCodeCount = 10

// recoveryAlphabet is Crockford's base32 without the letters people
// misread; a code is 16 of them (80 bits), shown as four groups.
const recoveryAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// ErrNoEnrolment means a TOTP confirmation came without an enrolment
// in progress.
var ErrNoEnrolment = errors.New("no TOTP enrolment in progress")

// ErrNoTOTP means the user has no second factor to turn off.
var ErrNoTOTP = errors.New("TOTP is not enabled")

// BeginTOTP starts (or restarts) the enrolment of a TOTP seed for the
// user with login and returns its otpauth:// URL; the second factor stays
// off until ConfirmTOTP. A user who has TOTP on is ErrTOTPEnabled.
func (s *Store) BeginTOTP(login, issuer string, actor Actor) (string, error) {
	return s.newTOTPSecret(login, issuer, actor, "totp enrolment started", func(u *User, secret string) { u.TOTPPending = secret })
}

// PendingTOTPURL is the otpauth:// URL of the user's enrolment in
// progress, to show its QR code again; "" when none is.
func PendingTOTPURL(u *User, issuer string) string {
	if u.TOTPPending == "" {
		return ""
	}
	return otpauthURL(issuer, u.Login, u.TOTPPending)
}

// ConfirmTOTP switches the pending seed on when code is one of its
// current codes, and returns fresh recovery codes, in plaintext this once
// (only their hashes are kept). A wrong code is ErrBadCredentials and
// changes nothing.
func (s *Store) ConfirmTOTP(login, code string, actor Actor) ([]string, error) {
	codes, hashes, err := newRecoveryCodes()
	if err != nil {
		return nil, err
	}
	_, err = s.UpdateUser(login, actor, "totp enabled", func(u *User) error {
		if u.TOTPSecret != "" {
			return ErrTOTPEnabled
		}
		if u.TOTPPending == "" {
			return ErrNoEnrolment
		}
		probe := *u
		probe.TOTPSecret = u.TOTPPending
		if !s.checkTOTP(&probe, code, s.now()) {
			return ErrBadCredentials
		}
		u.TOTPSecret, u.TOTPPending, u.RecoveryCodes = u.TOTPPending, "", hashes
		return nil
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// DisableTOTPWithCode turns the user's second factor off when code is a
// current TOTP code (a recovery code does not do: turning the factor off
// needs the authenticator itself). A wrong code is ErrBadCredentials.
func (s *Store) DisableTOTPWithCode(login, code string, actor Actor) (*User, error) {
	return s.UpdateUser(login, actor, "totp disabled", func(u *User) error {
		if u.TOTPSecret == "" {
			return ErrNoTOTP
		}
		if !s.checkTOTP(u, code, s.now()) {
			return ErrBadCredentials
		}
		u.TOTPSecret, u.TOTPPending, u.RecoveryCodes = "", "", nil
		return nil
	})
}

// useRecoveryCode spends one of u's recovery codes if code is one: the
// hash is removed in the same transaction that found it, so two logins
// racing with one code cannot both pass.
func (s *Store) useRecoveryCode(u *User, code string) (bool, error) {
	h, ok := recoveryHash(code)
	if !ok || len(u.RecoveryCodes) == 0 {
		return false, nil
	}
	used := false
	err := s.update("use_recovery_code", func(tx *Tx) error {
		// Set, not accumulated: in fleet mode a transaction that lost a
		// race runs again, and the code may be gone by then.
		used = false
		cur, err := unsafeUser(tx, u.ID)
		if err != nil {
			return err
		}
		idx := -1
		for i, stored := range cur.RecoveryCodes {
			if subtle.ConstantTimeCompare([]byte(stored), []byte(h)) == 1 {
				idx = i
			}
		}
		if idx < 0 {
			return nil
		}
		cur.RecoveryCodes = append(cur.RecoveryCodes[:idx:idx], cur.RecoveryCodes[idx+1:]...)
		if err := putJSON(tx.Bucket(bucketUsers), []byte(u.ID), cur); err != nil {
			return err
		}
		used = true
		return s.unsafeAudit(tx, Event{Action: ActionUserUpdated, Actor: UserActor(u.ID, ""), UserID: u.ID,
			Detail: fmt.Sprintf("recovery code used (%d left)", len(cur.RecoveryCodes))})
	})
	if err != nil {
		return false, fmt.Errorf("recovery code: %w", err)
	}
	if used {
		s.users.invalidate(u.ID)
	}
	return used, nil
}

// newRecoveryCodes returns RecoveryCodeCount codes and their hashes.
func newRecoveryCodes() (codes, hashes []string, err error) {
	for range RecoveryCodeCount {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, nil, fmt.Errorf("recovery codes: %w", err)
		}
		var sb strings.Builder
		for i, c := range b {
			if i > 0 && i%4 == 0 {
				sb.WriteByte('-')
			}
			sb.WriteByte(recoveryAlphabet[int(c)%len(recoveryAlphabet)])
		}
		code := sb.String()
		h, _ := recoveryHash(code)
		codes, hashes = append(codes, code), append(hashes, h)
	}
	return codes, hashes, nil
}

// recoveryHash normalises a typed recovery code (case, dashes, spaces)
// and hashes it; ok is false for anything that cannot be one. A plain
// SHA-256 suffices: the codes are 80 random bits, not passwords.
func recoveryHash(code string) (string, bool) {
	norm := strings.Map(func(r rune) rune {
		switch {
		case r == '-' || r == ' ':
			return -1
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return r
	}, code)
	if len(norm) != 16 {
		return "", false
	}
	for i := 0; i < len(norm); i++ {
		if !strings.ContainsRune(recoveryAlphabet, rune(norm[i])) {
			return "", false
		}
	}
	sum := sha256.Sum256([]byte(norm))
	return hex.EncodeToString(sum[:]), true
}

// otpauthURL is the otpauth:// URL of a base32 seed, as totp.Generate
// writes it; "" if the seed does not decode.
func otpauthURL(issuer, account, secret string) string {
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		return ""
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: account, Period: totpPeriod, Digits: totpDigits, Secret: raw})
	if err != nil {
		return ""
	}
	return key.URL()
}
