package service

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/problem"
	"github.com/gatehouse/gatehouse/ratelimit"
)

// First-admin setup: a store without human accounts has a one-time setup
// token; whoever holds it creates the first administrator.

// SetupRequest is a first-admin setup as the setup page posts it.
type SetupRequest struct {
	// Token is the one-time setup token.
	Token string
	// Login and Password are the new administrator's; PasswordConfirm
	// must repeat Password.
	Login, Password, PasswordConfirm string
	// IP is the client's address: setup tokens are guessed per IP.
	IP string
}

// The reasons of Setup's refusals (Problem.Reason) besides
// login_throttled (the IP is locked), server_busy and internal_error,
// so that the setup page can say which field is wrong.
const (
	// SetupBadToken: wrong or expired setup token (403).
	SetupBadToken = "setup_token"
	// SetupDone: there is no setup to do (any more) (409).
	SetupDone = "setup_done"
	// SetupBadLogin: the login is not a valid login (400).
	SetupBadLogin = "setup_login"
	// SetupTaken: an account has the login already (409).
	SetupTaken = "setup_taken"
	// SetupBadPassword: the password breaks the password policy (400).
	SetupBadPassword = "setup_password"
	// SetupMismatch: the confirmation is not the password (400).
	SetupMismatch = "setup_mismatch"
)

// SetupPending reports whether a first-admin setup token waits to be
// used.
func (s *Service) SetupPending() bool { return s.Store.SetupPending() }

// Setup creates the first administrator with the setup token. A guess
// is counted against the client IP before anything is checked, so a
// burst of guesses cannot slip past the lock, and the token is checked
// before the password is hashed: a wrong one costs no hash. Its refusals
// are *problem.Problem with the reasons above.
func (s *Service) Setup(ctx context.Context, req SetupRequest) (*authstore.User, error) {
	at, p := s.beginSetup(req.IP)
	if p != nil {
		return nil, p
	}
	switch err := s.Store.CheckSetupToken(req.Token); {
	case errors.Is(err, authstore.ErrBadCredentials), errors.Is(err, authstore.ErrExpired):
		return nil, badSetupToken()
	case errors.Is(err, authstore.ErrSetupUnavailable):
		at.RefundAll()
		return nil, setupRefusal(http.StatusConflict, SetupDone, "setup is done")
	case err != nil:
		at.RefundAll()
		s.log().Error("checking the setup token", zap.Error(err))
		return nil, problem.Internal()
	}
	at.RefundAll() // the right token: not a guess
	normalized, err := authstore.NormalizeLogin(req.Login)
	if err != nil {
		return nil, setupRefusal(http.StatusBadRequest, SetupBadLogin, err.Error())
	}
	// Only an agent can hold a login while setup is pending; asking here
	// spares a password hash, UseSetupGrant decides.
	if _, err := s.Store.UserByLogin(normalized); err == nil {
		return nil, setupTaken()
	}
	if err := authstore.CheckPasswordPolicy(req.Password); err != nil {
		return nil, setupRefusal(http.StatusBadRequest, SetupBadPassword, err.Error())
	}
	if req.Password != req.PasswordConfirm {
		return nil, setupRefusal(http.StatusBadRequest, SetupMismatch, "the passwords do not match")
	}
	hash, err := authstore.HashPasswordContext(ctx, req.Password)
	switch {
	case errors.Is(err, authstore.ErrBusy), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return nil, problem.Busy()
	case err != nil:
		s.log().Error("hashing the first password", zap.Error(err))
		return nil, problem.Internal()
	}
	u, err := s.Store.UseSetupGrant(req.Token, authstore.NewUser{Login: req.Login, Tier: s.Policy.DefaultTier}, hash,
		authstore.Actor{Kind: authstore.ActorUser, IP: req.IP})
	switch {
	case errors.Is(err, authstore.ErrBadCredentials), errors.Is(err, authstore.ErrExpired):
		// Expired (or replaced) since the check above.
		return nil, badSetupToken()
	case errors.Is(err, authstore.ErrSetupUnavailable):
		return nil, setupRefusal(http.StatusConflict, SetupDone, "setup is done")
	case errors.Is(err, authstore.ErrExists):
		return nil, setupTaken()
	case err != nil:
		s.log().Error("first-admin setup", zap.Error(err))
		return nil, problem.Internal()
	}
	s.Offer.forget()
	s.log().Info("first administrator created", zap.String("user", u.Login), zap.String("client_ip", req.IP))
	return u, nil
}

// SetupTTL is how long the first-admin setup token works.
const SetupTTL = time.Hour

// SetupOffer is the setup token this process logged for a store, kept in
// memory so that a config reload logs the same link instead of replacing
// it. The zero value offers nothing yet.
type SetupOffer struct {
	mu      sync.Mutex
	token   string
	expires time.Time
}

// OfferSetup runs when the server starts: on a store without human
// accounts it issues a one-time setup token (SetupTTL, single use) and
// logs where to use it. Registered agents do not count: open
// registration must not end setup (authstore/setup.go). The log line
// necessarily holds the token: it is the operator's bootstrap secret,
// like a first-run password. Operators who prefer the command line use
// `caddy gatehouse user add` and `user passwd` instead.
func (s *Service) OfferSetup() {
	if humans, err := s.Store.HasHumans(); err != nil || humans {
		return
	}
	o := s.Offer
	if o == nil {
		o = new(SetupOffer)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.token == "" || !s.now().Before(o.expires) || !s.Store.SetupPending() {
		tok, exp, err := s.Store.CreateSetupGrant(SetupTTL)
		if err != nil {
			s.log().Error("creating the first-admin setup token", zap.Error(err))
			return
		}
		o.token, o.expires = tok, exp
	}
	s.log().Warn("no user accounts yet: open the setup link on a site with gatehouse endpoints to create the first administrator (single use)",
		zap.String("setup_url", "/setup#"+o.token), zap.Time("expires", o.expires),
		zap.String("or", "caddy gatehouse user add <login> && caddy gatehouse user passwd <login>"))
}

// forget drops the offer once setup is done.
func (o *SetupOffer) forget() {
	if o == nil {
		return
	}
	o.mu.Lock()
	o.token, o.expires = "", time.Time{}
	o.mu.Unlock()
}

// beginSetup counts a setup attempt from client IP ip (see
// Backoff.Begin): the attempt, to be refunded once the token proves
// right, or the 429 for an IP that is locked.
func (s *Service) beginSetup(ip string) (*Attempt, *problem.Problem) {
	if s.Logins == nil {
		s.log().Error("checking the setup token", zap.Error(errNoBackoff))
		return nil, problem.Internal()
	}
	at, wait := s.Logins.Begin(s.now(), Allowance{BackoffKey("setup", ratelimit.ClientKey(ip)), setupFreeFailures})
	if at == nil {
		return nil, throttled(wait)
	}
	return at, nil
}

func badSetupToken() *problem.Problem {
	return problem.Forbidden(SetupBadToken, "wrong or expired setup token")
}

func setupTaken() *problem.Problem {
	return setupRefusal(http.StatusConflict, SetupTaken, "that login is taken")
}

func setupRefusal(status int, reason, msg string) *problem.Problem {
	code := "invalid_request"
	if status == http.StatusConflict {
		code = "conflict"
	}
	return problem.New(status, code, reason, msg)
}
