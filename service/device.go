package service

import (
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/ratelimit"
)

// Guessing user codes: a session may enter a few wrong codes and a client
// IP a few more (people behind one NAT) before each further wrong code
// locks it out for longer (see backoff.go). With 20^8 codes and a
// 10-minute lifetime, that makes guessing a live code hopeless.
const (
	deviceSessionFreeFailures = 5
	deviceIPFreeFailures      = 10
)

// DeviceThrottled refuses a user-code lookup while the session or the
// client IP is locked out for wrong codes.
type DeviceThrottled struct {
	// Wait is how long until the next lookup may be made.
	Wait time.Duration
}

func (e *DeviceThrottled) Error() string {
	return fmt.Sprintf("too many wrong codes; try again in %s", e.Wait.Round(time.Second))
}

// FindDeviceGrant looks up the pending grant of a typed user code for the
// browser session sessionID at client address ip. A wrong code counts
// against the session and the address; the lookup is counted before it is
// made and refunded when the code exists (Backoff.Begin), so concurrent
// guesses cannot slip past the lock. It answers *DeviceThrottled,
// authstore.ErrNotFound, ErrDeviceCodeUsed (decided already) or ErrExpired
// for a grant that cannot be decided.
func (s *Service) FindDeviceGrant(sessionID, ip, code string) (*authstore.DeviceGrant, error) {
	now := s.now()
	at, wait := s.Devices.Begin(now,
		Allowance{Key: BackoffKey("device-sid", sessionID), Free: deviceSessionFreeFailures},
		Allowance{Key: BackoffKey("device-ip", ratelimit.ClientKey(ip)), Free: deviceIPFreeFailures})
	if at == nil {
		return nil, &DeviceThrottled{Wait: wait}
	}
	g, err := s.Store.DeviceGrantByUserCode(code)
	if errors.Is(err, authstore.ErrNotFound) {
		return nil, err
	}
	at.RefundAll() // not a wrong guess
	switch {
	case err != nil:
		return nil, fmt.Errorf("looking up a device grant: %w", err)
	case g.Status != authstore.DevicePending:
		return nil, authstore.ErrDeviceCodeUsed
	case !now.Before(g.ExpiresAt):
		return nil, authstore.ErrExpired
	}
	return g, nil
}

// DecideDevice records a user's answer to the device grant of userCode,
// which client clientID asked for: approval is the token it may mint, nil
// a denial.
func (s *Service) DecideDevice(userCode, clientID string, u *authstore.User, approval *authstore.NewPAT, actor authstore.Actor) error {
	if _, err := s.Store.DecideDevice(userCode, u.ID, approval, actor); err != nil {
		return fmt.Errorf("deciding device grant: %w", err)
	}
	if approval != nil {
		s.log().Info("device approved", zap.String("user", u.Login), zap.String("client_id", clientID),
			zap.Strings("scopes", approval.Scopes))
	} else {
		s.log().Info("device denied", zap.String("user", u.Login), zap.String("client_id", clientID))
	}
	return nil
}
