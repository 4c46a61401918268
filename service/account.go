package service

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/problem"
)

// Self-service account operations, for the security and sessions pages:
// a signed-in user changes their password, enrols or removes TOTP, and
// lists and ends their own sessions. Every check of something secret
// (the current password, a TOTP code) runs behind the failed-login
// backoff, so the pages cannot be used to guess what the login form
// would lock out.

// Refusal reasons of the account operations (problem.Problem.Reason),
// which the pages turn into their messages.
const (
	// AccountWrongPassword: the current password is wrong (403).
	AccountWrongPassword = "account_wrong_password"
	// AccountBadPassword: the new password breaks the policy (400).
	AccountBadPassword = "account_password_policy"
	// AccountMismatch: the confirmation is not the new password (400).
	AccountMismatch = "account_password_mismatch"
	// AccountWrongCode: the TOTP code is wrong or was used (403).
	AccountWrongCode = "account_wrong_code"
	// AccountTOTPOn: TOTP is on already (409).
	AccountTOTPOn = "account_totp_on"
	// AccountTOTPOff: there is no TOTP, or no enrolment, to act on (409).
	AccountTOTPOff = "account_totp_off"
	// AccountNotYours: the session is not the caller's (404, as if it did
	// not exist).
	AccountNotYours = "account_not_yours"
)

func accountRefusal(status int, reason, msg string) *problem.Problem {
	code := "invalid_request"
	switch status {
	case http.StatusConflict:
		code = "conflict"
	case http.StatusNotFound:
		code = "not_found"
	case http.StatusForbidden:
		code = "forbidden"
	}
	return problem.New(status, code, reason, msg)
}

// PasswordChange is a change of one's own password from the security
// page.
type PasswordChange struct {
	Current, New, Confirm string
	// KeepSessions leaves the user's other sessions alone; by default
	// they end, since a changed password usually means the old one is
	// not trusted. The caller's own session (SessionID) always stays.
	KeepSessions bool
	SessionID    string
	IP           string
}

// ChangePassword sets u's password to c.New when c.Current is right,
// and ends u's other sessions unless asked to keep them; it says how
// many ended. The current password is checked behind the backoff as a
// login is; a new password is checked before any hashing.
func (s *Service) ChangePassword(ctx context.Context, u *authstore.User, c PasswordChange) (int, error) {
	if err := authstore.CheckPasswordPolicy(c.New); err != nil {
		return 0, accountRefusal(http.StatusBadRequest, AccountBadPassword, err.Error())
	}
	if c.New != c.Confirm {
		return 0, accountRefusal(http.StatusBadRequest, AccountMismatch, "the new passwords do not match")
	}
	if err := s.checkSecret(u, c.IP, func() (bool, error) { return authstore.PasswordMatches(ctx, u, c.Current) },
		accountRefusal(http.StatusForbidden, AccountWrongPassword, "the current password is wrong")); err != nil {
		return 0, err
	}
	hash, err := authstore.HashPasswordContext(ctx, c.New)
	if err != nil {
		return 0, hashFailure(err)
	}
	actor := authstore.UserActor(u.ID, c.IP)
	if _, err := s.Store.SetPassword(u.Login, hash, actor); err != nil {
		return 0, fmt.Errorf("changing the password of %s: %w", u.Login, err)
	}
	n := 0
	if !c.KeepSessions {
		if n, err = s.Store.RevokeUserSessionsExcept(u.ID, c.SessionID, actor, "password changed"); err != nil {
			return 0, fmt.Errorf("ending the sessions of %s: %w", u.Login, err)
		}
	}
	s.log().Info("password changed", zap.String("user", u.Login), zap.Int("sessions_revoked", n), zap.String("client_ip", c.IP))
	return n, nil
}

// checkSecret runs check (a password or code comparison) behind the
// failed-login backoff on u's login from ip: locked is a 429 before the
// check, a false check is wrong and counted, an error is a 503 or 500.
func (s *Service) checkSecret(u *authstore.User, ip string, check func() (bool, error), wrong *problem.Problem) error {
	if s.Logins == nil {
		s.log().Error("checking a secret", zap.Error(errNoBackoff))
		return problem.Internal()
	}
	at, wait := s.Logins.beginLogin(s.now(), newLoginKeys(u.Login, ip))
	if at == nil {
		return throttled(wait)
	}
	ok, err := check()
	switch {
	case err != nil:
		at.RefundAll()
		return hashFailure(err)
	case !ok:
		return wrong
	}
	at.succeeded()
	return nil
}

// hashFailure is the answer to a password hash that could not run.
func hashFailure(err error) error {
	if errors.Is(err, authstore.ErrBusy) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return problem.Busy()
	}
	return fmt.Errorf("password hash: %w", err)
}

// TOTPEnrolment is an enrolment in progress: the otpauth:// URL the
// page shows as a QR code and as text.
type TOTPEnrolment struct {
	URL string
}

// BeginTOTP starts u's TOTP enrolment (a fresh seed, not yet on).
func (s *Service) BeginTOTP(u *authstore.User, ip string) (TOTPEnrolment, error) {
	url, err := s.Store.BeginTOTP(u.Login, s.Policy.Realm, authstore.UserActor(u.ID, ip))
	if errors.Is(err, authstore.ErrTOTPEnabled) {
		return TOTPEnrolment{}, accountRefusal(http.StatusConflict, AccountTOTPOn, "the second factor is on already")
	}
	if err != nil {
		return TOTPEnrolment{}, err
	}
	return TOTPEnrolment{URL: url}, nil
}

// checkCode runs op, a change of u's that needs a current one-time code,
// behind the login backoff (checkSecret): a wrong code
// (ErrBadCredentials) counts as a failure and is refused; any other error
// of op comes back as other, for the caller to answer in its own words.
func (s *Service) checkCode(u *authstore.User, ip string, op func() error) (other, err error) {
	err = s.checkSecret(u, ip, func() (bool, error) {
		switch e := op(); {
		case errors.Is(e, authstore.ErrBadCredentials):
			return false, nil
		case e != nil:
			other = e
		}
		return true, nil
	}, accountRefusal(http.StatusForbidden, AccountWrongCode, "wrong or already used code"))
	return other, err
}

// PendingTOTP is u's enrolment in progress, if any.
func (s *Service) PendingTOTP(u *authstore.User) (TOTPEnrolment, bool) {
	url := authstore.PendingTOTPURL(u, s.Policy.Realm)
	return TOTPEnrolment{URL: url}, url != ""
}

// ConfirmTOTP switches u's pending seed on with a code it generates and
// returns the recovery codes, to be shown once.
func (s *Service) ConfirmTOTP(u *authstore.User, code, ip string) ([]string, error) {
	var codes []string
	other, err := s.checkCode(u, ip, func() (err error) {
		codes, err = s.Store.ConfirmTOTP(u.Login, code, authstore.UserActor(u.ID, ip))
		return err
	})
	if err != nil {
		return nil, err
	}
	switch {
	case errors.Is(other, authstore.ErrTOTPEnabled):
		return nil, accountRefusal(http.StatusConflict, AccountTOTPOn, "the second factor is on already")
	case errors.Is(other, authstore.ErrNoEnrolment):
		return nil, accountRefusal(http.StatusConflict, AccountTOTPOff, "no enrolment in progress; start again")
	case other != nil:
		return nil, other
	}
	s.log().Info("totp enabled", zap.String("user", u.Login), zap.String("client_ip", ip))
	return codes, nil
}

// DisableOwnTOTP turns u's second factor off with a current code.
func (s *Service) DisableOwnTOTP(u *authstore.User, code, ip string) error {
	other, err := s.checkCode(u, ip, func() error {
		_, err := s.Store.DisableTOTPWithCode(u.Login, code, authstore.UserActor(u.ID, ip))
		return err
	})
	if err != nil {
		return err
	}
	if errors.Is(other, authstore.ErrNoTOTP) {
		return accountRefusal(http.StatusConflict, AccountTOTPOff, "the second factor is off already")
	}
	if other != nil {
		return other
	}
	s.log().Info("totp disabled", zap.String("user", u.Login), zap.String("client_ip", ip))
	return nil
}

// OwnSessions lists u's sessions, browser and CLI, newest first.
func (s *Service) OwnSessions(u *authstore.User) ([]api.SessionInfo, error) {
	list, err := s.Sessions(u.Login)
	if err != nil {
		return nil, err
	}
	for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
		list[i], list[j] = list[j], list[i]
	}
	return list, nil
}

// EndOwnSession ends session id of u; another user's session is
// AccountNotYours, as if it did not exist.
func (s *Service) EndOwnSession(u *authstore.User, id, ip string) error {
	sess, err := s.Store.Session(id)
	if err != nil || sess.UserID != u.ID {
		return accountRefusal(http.StatusNotFound, AccountNotYours, "no such session")
	}
	if _, err := s.Store.RevokeSession(id, authstore.UserActor(u.ID, ip), "signed out from the sessions page"); err != nil {
		return err
	}
	return nil
}

// EndOtherSessions ends every session of u but keepID ("sign out
// everywhere else") and says how many ended.
func (s *Service) EndOtherSessions(u *authstore.User, keepID, ip string) (int, error) {
	n, err := s.Store.RevokeUserSessionsExcept(u.ID, keepID, authstore.UserActor(u.ID, ip), "signed out everywhere else")
	if err != nil {
		return 0, err
	}
	s.log().Info("sessions revoked", zap.String("user", u.Login), zap.Int("count", n), zap.String("by", "user"))
	return n, nil
}
