package service

import (
	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/decision"
)

// The admin's user operations: create, list, disable or enable, set the
// tier.

// UserInfo is a user as the admin API shows it: no password hash, no
// TOTP seed.
func (s *Service) UserInfo(u *authstore.User) api.UserInfo {
	return api.UserInfo{
		ID: u.ID, Login: u.Login, Kind: u.Kind, Tier: u.Tier, Scopes: decision.UserScopes(u, s.Policy.Scopes),
		AllScopes: u.Scopes == nil, Disabled: u.Disabled, Password: u.PasswordHash != "",
		TOTP: u.TOTPSecret != "", Memberships: u.Memberships, Created: u.CreatedAt,
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
	u, err := s.Store.CreateUser(authstore.NewUser{Login: req.Login, Tier: tier, Scopes: req.Scopes}, actor)
	if err != nil {
		return api.UserInfo{}, err
	}
	s.log().Info("user created", zap.String("user", u.Login), zap.String("tier", u.Tier))
	return s.UserInfo(u), nil
}

// SetDisabled disables or enables the user with login. A disabled user's
// credentials stop working at once; their records stay.
func (s *Service) SetDisabled(login string, disabled bool, actor authstore.Actor) (api.UserInfo, error) {
	detail := "enabled"
	if disabled {
		detail = "disabled"
	}
	u, err := s.Store.UpdateUser(login, actor, detail, func(u *authstore.User) error {
		u.Disabled = disabled
		return nil
	})
	if err != nil {
		return api.UserInfo{}, err
	}
	s.log().Info("user "+detail, zap.String("user", u.Login))
	return s.UserInfo(u), nil
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
