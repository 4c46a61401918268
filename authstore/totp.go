package authstore

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP parameters: RFC 6238 defaults, which every authenticator app reads.
const (
	totpPeriod = 30
	totpDigits = otp.DigitsSix
	// totpSkew accepts the previous and next step too, for clock drift.
	totpSkew = 1
)

// ErrTOTPEnabled is returned when enabling TOTP for a user who has it.
var ErrTOTPEnabled = errors.New("TOTP is already enabled")

// EnableTOTP gives the user a new TOTP secret and returns its otpauth://
// URL, to be shown once (as text or a QR code) and entered into an
// authenticator app. The secret itself stays in the user record: a TOTP
// verifier needs the seed, so unlike a password it cannot be stored as a
// one-way hash, and anyone who reads the store file can compute codes.
func (s *Store) EnableTOTP(login, issuer string, actor Actor) (string, error) {
	return s.newTOTPSecret(login, issuer, actor, "totp enabled", func(u *User, secret string) { u.TOTPSecret = secret })
}

// newTOTPSecret generates a TOTP seed for the user with login and stores
// it with set, audited as what; a user who has TOTP on is ErrTOTPEnabled.
// It returns the seed's otpauth:// URL.
func (s *Store) newTOTPSecret(login, issuer string, actor Actor, what string, set func(u *User, secret string)) (string, error) {
	l, err := NormalizeLogin(login)
	if err != nil {
		return "", fmt.Errorf("user %q: %w", login, ErrNotFound)
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: l, Period: totpPeriod, Digits: totpDigits})
	if err != nil {
		return "", fmt.Errorf("generate TOTP secret: %w", err)
	}
	_, err = s.UpdateUser(l, actor, what, func(u *User) error {
		if u.TOTPSecret != "" {
			return ErrTOTPEnabled
		}
		set(u, key.Secret())
		return nil
	})
	if err != nil {
		return "", err
	}
	return key.URL(), nil
}

// DisableTOTP removes the user's second factor, its recovery codes and
// any enrolment in progress.
func (s *Store) DisableTOTP(login string, actor Actor) (*User, error) {
	return s.UpdateUser(login, actor, "totp disabled", func(u *User) error {
		u.TOTPSecret, u.TOTPPending, u.RecoveryCodes = "", "", nil
		return nil
	})
}

// ResetSecondFactor removes TOTP, recovery codes and passkeys: an
// administrator's answer to a lost phone or security key.
func (s *Store) ResetSecondFactor(login string, actor Actor) (*User, error) {
	return s.UpdateUser(login, actor, "second factor reset (totp, recovery codes, passkeys)", func(u *User) error {
		u.TOTPSecret, u.TOTPPending, u.RecoveryCodes, u.Passkeys = "", "", nil, nil
		return nil
	})
}

// checkTOTP reports whether code is the user's current code (or the one
// before or after, for clock drift), and refuses a code whose time step was
// already used or precedes one that was (RFC 6238 §5.2), so a code seen
// over a shoulder cannot be replayed. Steps are remembered in memory (a
// restart forgets them, which re-opens at most one 90-second window) and,
// in fleet mode, in etcd, for every edge.
func (s *Store) checkTOTP(u *User, code string, now time.Time) bool {
	if len(code) != int(totpDigits) {
		return false
	}
	step := now.Unix() / totpPeriod
	opts := totp.ValidateOpts{Period: totpPeriod, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1}
	matched := int64(-1)
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		want, err := totp.GenerateCodeCustom(u.TOTPSecret, time.Unix((step+d)*totpPeriod, 0), opts)
		if err != nil {
			return false
		}
		// Every candidate is compared, match or not, so timing says nothing
		// about which step matched.
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			matched = step + d
		}
	}
	if matched < 0 {
		return false
	}
	if !s.sess.useTOTPStep(u.ID, matched) {
		return false
	}
	if s.fleet != nil {
		return s.useFleetTOTPStep(u.ID, matched)
	}
	return true
}

// useFleetTOTPStep records the step in etcd too, once for the fleet, so
// a code used on one edge cannot be replayed on another. Cut off from
// etcd the check fails closed, as every write does.
func (s *Store) useFleetTOTPStep(userID string, step int64) bool {
	fresh := false
	err := s.update("use_totp_step", func(tx *Tx) error {
		b := tx.Bucket(bucketTOTPSteps)
		if last := b.Get([]byte(userID)); len(last) == 8 && int64(beUint64(last)) >= step {
			fresh = false
			return nil
		}
		fresh = true
		return b.Put([]byte(userID), be64(uint64(step)))
	})
	return err == nil && fresh
}
