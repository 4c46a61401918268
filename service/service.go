package service

import (
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/internal/clock"
	"github.com/gatehouse/gatehouse/ratelimit"
)

// Service is the operations over one store under one policy.
type Service struct {
	// Store is the credential store.
	Store *authstore.Store
	// Policy is the compiled deployment policy.
	Policy *config.Policy
	// Logger gets one line per change made (token created, revoked,
	// membership set); nil logs nothing.
	Logger *zap.Logger
	// Logins is the store's failed-login backoff (password logins and
	// setup tokens), kept by whoever keeps the store open so that a
	// config reload does not reset a guesser's lock; CheckPassword,
	// CLILogin and setup need it.
	Logins *Backoff
	// Devices is the store's wrong-user-code backoff (device approval),
	// kept as Logins is; FindDeviceGrant needs it.
	Devices *Backoff
	// Offer is the setup token this process logged for the store, kept
	// as Logins is so that a reload logs the same link; nil offers a new
	// token each time.
	Offer *SetupOffer
	// Now is the clock; nil is clock.Now, the one the store's credentials
	// live by.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return clock.Now()
}

func (s *Service) log() *zap.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return zap.NewNop()
}

// CompilePolicy validates the global configuration with the validators
// of the packages that own each format (rates, token prefixes).
func CompilePolicy(g config.Global) (*config.Policy, error) {
	p, err := config.Compile(g, config.Checks{Rate: ratelimit.ParseRate, Prefix: authstore.ValidatePrefix})
	if err != nil {
		return nil, fmt.Errorf("gatehouse: %w", err)
	}
	return p, nil
}
