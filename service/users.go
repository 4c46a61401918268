package service

import (
	"errors"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/decision"
	"github.com/gatehouse/gatehouse/problem"
)

// The admin's user operations: create, list, disable or enable, set the
// tier, the password and TOTP.

// UserInfo is a user as the admin API shows it: no password hash, no
// TOTP seed.
func (s *Service) UserInfo(u *authstore.User) api.UserInfo {
	return api.UserInfo{
		ID: u.ID, Login: u.Login, Kind: u.Kind, Tier: u.Tier, Scopes: decision.UserScopes(u, s.Policy.Scopes),
		AllScopes: u.Scopes == nil, Disabled: u.Disabled, Admin: u.Admin, Password: u.PasswordHash != "",
		TOTP: u.TOTPSecret != "", Passkeys: len(u.Passkeys), Memberships: u.Memberships, Created: u.CreatedAt,
	}
}

// Users lists every user.
func (s *Service) Users() ([]api.UserInfo, error) {
	users, err := s.Store.Users()
	if err != nil {
		return nil, err
	}
	out := make([]api.UserInfo, 0, len(users))
	for _, u := range users {
		out = append(out, s.UserInfo(u))
	}
	return out, nil
}

// CreateUser creates a user with a valid login, a declared tier (the
// default tier if none is given) and, if given, declared scopes (nil is
// every scope of the catalog).
func (s *Service) CreateUser(req api.CreateUserRequest, actor authstore.Actor) (api.UserInfo, error) {
	if _, err := authstore.NormalizeLogin(req.Login); err != nil {
		return api.UserInfo{}, badInput("%v", err)
	}
	tier := req.Tier
	if tier == "" {
		tier = s.Policy.DefaultTier
	}
	if err := s.Policy.CheckTier(tier); err != nil {
		return api.UserInfo{}, badInput("%v", err)
	}
	if req.Scopes != nil {
		if err := s.Policy.CheckScopes(req.Scopes); err != nil {
			return api.UserInfo{}, badInput("%v", err)
		}
	}
	u, err := s.Store.CreateUser(authstore.NewUser{Login: req.Login, Tier: tier, Scopes: req.Scopes, Admin: req.Admin}, actor)
	if err != nil {
		return api.UserInfo{}, err
	}
	s.log().Info("user created", zap.String("user", u.Login), zap.String("tier", u.Tier))
	return s.UserInfo(u), nil
}

// SetDisabled disables or enables the user with login. A disabled user's
// credentials stop working at once; their records stay. An administrator
// in the console (actor.UserID) cannot disable themselves.
func (s *Service) SetDisabled(login string, disabled bool, actor authstore.Actor) (api.UserInfo, error) {
	detail := "enabled"
	if disabled {
		detail = "disabled"
	}
	u, err := s.Store.UpdateUser(login, actor, detail, func(u *authstore.User) error {
		if disabled && actor.UserID != "" && actor.UserID == u.ID {
			return badInput("you cannot disable yourself")
		}
		u.Disabled = disabled
		return nil
	})
	if err != nil {
		return api.UserInfo{}, err
	}
	s.log().Info("user "+detail, zap.String("user", u.Login))
	return s.UserInfo(u), nil
}

// SetAdmin gives the user with login the administrator role, or takes
// it away. Agents cannot hold it (they have no browser session to use
// the console with), and an administrator cannot take it from
// themselves through the console (actor.UserID), so a console is never
// left without the one who was using it by a slip.
func (s *Service) SetAdmin(login string, admin bool, actor authstore.Actor) (api.UserInfo, error) {
	detail := "admin granted"
	if !admin {
		detail = "admin revoked"
	}
	u, err := s.Store.UpdateUser(login, actor, detail, func(u *authstore.User) error {
		if admin && u.Kind == authstore.KindAgent {
			return badInput("an agent account cannot be an administrator")
		}
		if !admin && actor.UserID != "" && actor.UserID == u.ID {
			return badInput("you cannot take the administrator role from yourself")
		}
		u.Admin = admin
		return nil
	})
	if err != nil {
		return api.UserInfo{}, err
	}
	s.log().Info(detail, zap.String("user", u.Login), zap.String("by", actorName(actor)))
	return s.UserInfo(u), nil
}

// actorName is who acted, for log lines: the actor kind, and the user id
// when a signed-in administrator acted.
func actorName(a authstore.Actor) string {
	if a.UserID != "" {
		return a.Kind + ":" + a.UserID
	}
	return a.Kind
}

// SetTier moves the user with login to a declared tier.
func (s *Service) SetTier(login, tier string, actor authstore.Actor) (api.UserInfo, error) {
	if err := s.Policy.CheckTier(tier); err != nil {
		return api.UserInfo{}, badInput("%v", err)
	}
	u, err := s.Store.UpdateUser(login, actor, "tier "+tier, func(u *authstore.User) error {
		u.Tier = tier
		return nil
	})
	if err != nil {
		return api.UserInfo{}, err
	}
	return s.UserInfo(u), nil
}

// SetPassword stores a new password hash (never a password: see
// api.SetPasswordRequest) and ends the user's sessions: a password reset
// usually means the old one is not to be trusted.
func (s *Service) SetPassword(login, hash string, actor authstore.Actor) (api.SetPasswordResponse, error) {
	if err := authstore.ValidatePasswordHash(hash); err != nil {
		return api.SetPasswordResponse{}, badInput("password_hash: %v", err)
	}
	u, err := s.Store.SetPassword(login, hash, actor)
	if err != nil {
		return api.SetPasswordResponse{}, err
	}
	n, err := s.Store.RevokeUserSessions(u.ID, actor, "password changed")
	if err != nil {
		return api.SetPasswordResponse{}, err
	}
	s.log().Info("password set", zap.String("user", u.Login), zap.Int("sessions_revoked", n))
	return api.SetPasswordResponse{User: s.UserInfo(u), SessionsRevoked: n}, nil
}

// EnableTOTP gives the user a new TOTP secret, returned once as an
// otpauth:// URL issued by the realm. A user who has one already must
// have it disabled first (a conflict).
func (s *Service) EnableTOTP(login string, actor authstore.Actor) (api.TOTPResponse, error) {
	url, err := s.Store.EnableTOTP(login, s.Policy.Realm, actor)
	if errors.Is(err, authstore.ErrTOTPEnabled) {
		return api.TOTPResponse{}, problem.Errorf(problem.KindConflict, "TOTP is already enabled for this user; disable it first to issue a new secret")
	}
	if err != nil {
		return api.TOTPResponse{}, err
	}
	u, err := s.Store.UserByLogin(login)
	if err != nil {
		return api.TOTPResponse{}, err
	}
	s.log().Info("totp enabled", zap.String("user", u.Login))
	return api.TOTPResponse{User: s.UserInfo(u), URL: url}, nil
}

// DisableTOTP removes the user's TOTP secret.
func (s *Service) DisableTOTP(login string, actor authstore.Actor) (api.TOTPResponse, error) {
	u, err := s.Store.DisableTOTP(login, actor)
	if err != nil {
		return api.TOTPResponse{}, err
	}
	s.log().Info("totp disabled", zap.String("user", u.Login))
	return api.TOTPResponse{User: s.UserInfo(u)}, nil
}
