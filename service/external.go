package service

import (
	"errors"
	"slices"
	"strings"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
)

// Sign-in through an identity provider: the account of a verified
// external identity, found by (provider, subject) or created just in
// time, and the operator's explicit links.

// ExternalSignIn is a provider's verified identity of a person.
type ExternalSignIn struct {
	// Provider is the configured provider's name.
	Provider string
	// Subject is the provider's stable id of the person.
	Subject string
	// Username is the login the person would like; a new account's login
	// is derived from it (DeriveLogin) and made unique.
	Username string
	// IP is the client IP of the browser.
	IP string
}

// SignInExternal returns the account linked to (provider, subject) or,
// at the first sign-in, a new human account with the provider's scopes
// and tier, linked to it. The email is never a key: an existing local
// account with the same address is not linked (the operator links
// explicitly, LinkIdentity). A disabled account is returned with
// authstore.ErrUserDisabled, whatever the provider says.
func (s *Service) SignInExternal(in ExternalSignIn) (*authstore.User, error) {
	prov, ok := s.identityProvider(in.Provider)
	if !ok {
		return nil, badInput("identity provider %q is not configured", in.Provider)
	}
	u, err := s.Store.UserByIdentity(in.Provider, in.Subject)
	if errors.Is(err, authstore.ErrNotFound) {
		u, err = s.Store.CreateExternalUser(authstore.NewUser{
			Login: DeriveLogin(in.Username), Tier: prov.Tier, Scopes: slices.Clone(prov.Scopes),
		}, in.Provider, in.Subject, authstore.Actor{Kind: authstore.ActorUser, IP: in.IP})
		if errors.Is(err, authstore.ErrExists) {
			// A concurrent first sign-in of the same person won the race.
			u, err = s.Store.UserByIdentity(in.Provider, in.Subject)
		} else if err == nil {
			s.log().Info("user created", zap.String("user", u.Login), zap.String("provider", in.Provider), zap.String("by", "sign-in"))
		}
	}
	if err != nil {
		return u, err
	}
	if err := s.Store.RecordExternalLogin(u.ID, in.Provider, in.IP); err != nil {
		return nil, err
	}
	return u, nil
}

// ExternalRefused records a refused sign-in through provider in the
// audit trail (userID "" when no account was reached). A store that
// cannot write it is logged, not fatal: the browser is refused anyway.
func (s *Service) ExternalRefused(provider, reason, userID, ip string) {
	if err := s.Store.RecordExternalRefusal(userID, provider, reason, ip); err != nil {
		s.log().Error("recording a refused sign-in", zap.String("provider", provider), zap.Error(err))
	}
}

func (s *Service) identityProvider(name string) (config.IdentityProvider, bool) {
	for _, p := range s.Policy.IdentityProviders {
		if p.Name == name {
			return p, true
		}
	}
	return config.IdentityProvider{}, false
}

// DeriveLogin turns a provider's username into a valid login: lower
// case, any character a login may not hold replaced by '-', at most 60
// characters (room for a uniqueness suffix); "user" when nothing is
// left.
func DeriveLogin(username string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(username) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
		if b.Len() >= 60 {
			break
		}
	}
	l := strings.Trim(b.String(), "-._")
	for strings.Contains(l, "--") {
		l = strings.ReplaceAll(l, "--", "-")
	}
	if l == "" {
		return "user"
	}
	return l
}

// LinkIdentity links (provider, subject) to the account with login: how
// an operator lets an existing local account sign in through a provider.
// The provider need not be configured yet (a link may be made before the
// provider is turned on); its name must be valid.
func (s *Service) LinkIdentity(req api.IdentityLinkRequest) (api.IdentityLink, error) {
	// Only people sign in through a provider: an agent account linked to
	// one would let whoever holds the subject act as the agent in a browser.
	if u, err := s.Store.UserByLogin(req.User); err == nil && u.Kind == authstore.KindAgent {
		return api.IdentityLink{}, badInput("%s is an agent account; only human accounts sign in through a provider", u.Login)
	}
	rec, err := s.Store.LinkIdentity(req.User, req.Provider, req.Subject, authstore.AdminActor)
	if errors.Is(err, authstore.ErrBadIdentity) {
		return api.IdentityLink{}, badInput("%v", err)
	}
	if err != nil {
		return api.IdentityLink{}, err
	}
	s.log().Info("identity linked", zap.String("user", req.User), zap.String("provider", req.Provider), zap.String("by", authstore.ActorAdmin))
	return s.identityLink(*rec), nil
}

// UnlinkIdentity removes the link of (provider, subject); the account
// stays, and the next sign-in with that subject creates a new one.
func (s *Service) UnlinkIdentity(req api.IdentityLinkRequest) error {
	err := s.Store.UnlinkIdentity(req.Provider, req.Subject, authstore.AdminActor)
	if errors.Is(err, authstore.ErrBadIdentity) {
		return badInput("%v", err)
	}
	if err == nil {
		s.log().Info("identity unlinked", zap.String("provider", req.Provider), zap.String("by", authstore.ActorAdmin))
	}
	return err
}

// Identities lists the links of the account with login, or every link
// for "".
func (s *Service) Identities(login string) ([]api.IdentityLink, error) {
	userID, err := s.UserID(login)
	if err != nil {
		return nil, err
	}
	recs, err := s.Store.Identities(userID)
	if err != nil {
		return nil, err
	}
	out := make([]api.IdentityLink, 0, len(recs))
	for _, rec := range recs {
		out = append(out, s.identityLink(rec))
	}
	return out, nil
}

func (s *Service) identityLink(rec authstore.Identity) api.IdentityLink {
	return api.IdentityLink{User: s.LoginOf(rec.UserID), Provider: rec.Provider, Subject: rec.Subject, Linked: rec.LinkedAt}
}
