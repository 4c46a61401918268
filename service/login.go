package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/problem"
	"github.com/gatehouse/gatehouse/ratelimit"
)

// Login attempts: a password (and TOTP code) checked behind the backoff
// (backoff.go), for the login form and the CLI login alike.

// CheckPassword checks a login attempt (password form, CLI login) from
// client IP ip behind the backoff: a locked key (the account from this
// client IP, the IP, or the account from anywhere) is refused with 429
// before any hashing, and the attempt is counted as a failure of each
// before the hash (see Backoff.Begin), so a burst of guesses cannot slip
// past the lock. Every failure has the same message; the TOTP code is
// checked in the same attempt, so guessing codes costs the same. A busy
// server (the hash queue is full, or ctx is done) answers 503 and counts
// nothing. With local_login off every password is refused (403
// local_login_off) before anything is counted. Its refusals are
// *problem.Problem.
func (s *Service) CheckPassword(ctx context.Context, login, password, code, ip string) (*authstore.User, error) {
	return s.checkPassword(ctx, login, password, code, ip, false)
}

// CheckPasswordAskingCode is CheckPassword that, for the right password
// of an account with TOTP sent without a code, answers the
// api.ErrorTOTPRequired refusal (reason "totp_required", still counted
// as a failure) instead of the single failure: the login form then
// offers the user's passkey as the second factor.
func (s *Service) CheckPasswordAskingCode(ctx context.Context, login, password, ip string) (*authstore.User, error) {
	return s.checkPassword(ctx, login, password, "", ip, true)
}

// checkPassword is CheckPassword; with askCode, the right password for an
// account with TOTP sent without a code is refused as api.ErrorTOTPRequired
// instead of the single failure (still counted as one), so that a CLI
// can ask for the code. The login form always sends its code field, so
// it has no use for the distinction.
func (s *Service) checkPassword(ctx context.Context, login, password, code, ip string, askCode bool) (*authstore.User, error) {
	if s.Policy.LocalLoginOff {
		return nil, &problem.Problem{Status: http.StatusForbidden, Code: "local_login_off",
			Message: "password sign-in is turned off; sign in through an identity provider", Reason: "local_login_off"}
	}
	if s.Logins == nil {
		s.log().Error("checking login", zap.Error(errNoBackoff))
		return nil, problem.Internal()
	}
	at, wait := s.Logins.beginLogin(s.now(), newLoginKeys(login, ip))
	if at == nil {
		return nil, throttled(wait)
	}
	u, err := s.Store.CheckLogin(ctx, login, password, code, ip)
	switch {
	case err == nil:
		at.succeeded()
		return u, nil
	case askCode && errors.Is(err, authstore.ErrTOTPRequired):
		// Counted by Begin as well: a guesser who found the password
		// still has to get through the backoff for the code.
		return nil, &problem.Problem{Status: http.StatusUnauthorized, Code: api.ErrorTOTPRequired,
			Message: "this account needs its one-time code; send it as totp", Reason: "totp_required", Challenge: problem.Bare}
	case errors.Is(err, authstore.ErrBadCredentials):
		// Already counted by Begin.
		return nil, &problem.Problem{Status: http.StatusUnauthorized, Code: api.ErrorInvalidCredentials,
			Message: authstore.ErrBadCredentials.Error(), Reason: "login_failed", Challenge: problem.Bare}
	}
	// Right credentials for a disabled account, or no check at all: not a
	// failure to count.
	at.RefundAll()
	switch {
	case errors.Is(err, authstore.ErrUserDisabled):
		return nil, &problem.Problem{Status: http.StatusForbidden, Code: "user_disabled", Message: "this account is disabled",
			Reason: "user_disabled", Subject: u.ID}
	case errors.Is(err, authstore.ErrBusy), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return nil, problem.Busy()
	}
	s.log().Error("checking login", zap.Error(err))
	return nil, problem.Internal()
}

var errNoBackoff = errors.New("the service has no login backoff")

// CLILogin is a CLI's password login from client IP ip: the password
// check of CheckPassword, then a CLI session and its first tokens
// (StartCLISession). Unlike the login form, the right password for an
// account with TOTP, sent without a code, gets its own answer
// (api.ErrorTOTPRequired, 401, counted against the backoff like a
// failure), so that the CLI knows to ask for the code.
func (s *Service) CLILogin(ctx context.Context, login, password, code, ip, userAgent string) (api.CLITokens, error) {
	u, err := s.checkPassword(ctx, login, password, code, ip, true)
	if err != nil {
		return api.CLITokens{}, err
	}
	return s.StartCLISession(u, ip, userAgent)
}

// newLoginKeys are the backoff keys of a login typed as login from client IP
// ip (Caddy's client IP, which honours trusted_proxies).
func newLoginKeys(login, ip string) loginKeys {
	acct := strings.ToLower(strings.TrimSpace(login))
	ip = ratelimit.ClientKey(ip) // an IPv6 client holds its whole /64
	return loginKeys{
		accountIP: BackoffKey("login-ip", acct+"\x00"+ip),
		ip:        BackoffKey("ip", ip),
		account:   BackoffKey("login", acct),
	}
}

// BackoffKey names a counter of a store's backoff. The typed login is
// hashed: people type passwords into login fields, and the counters live
// a day.
func BackoffKey(kind, value string) string {
	sum := sha256.Sum256([]byte(value))
	return kind + "|" + hex.EncodeToString(sum[:12])
}

// throttled is the 429 for an attempt on a locked key, with the wait in
// Retry-After.
func throttled(wait time.Duration) *problem.Problem {
	secs := int(math.Ceil(wait.Seconds()))
	return &problem.Problem{
		Status: http.StatusTooManyRequests, Code: "too_many_attempts",
		Message: fmt.Sprintf("too many failed logins; try again in %d seconds", secs),
		Reason:  "login_throttled", Headers: http.Header{"Retry-After": {strconv.Itoa(secs)}},
	}
}
