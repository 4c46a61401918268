package service

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/problem"
)

// Minting and revoking PATs: the admin API (and so the CLI), the PAT page
// and API, device approval and agent registration all validate and
// create tokens here.

// PATRequest is what every way of minting a PAT asks for (admin CLI, PAT
// page and API, device approval, registration).
type PATRequest struct {
	Name        string
	Scopes      []string
	ExpiresDays int
	NoExpiry    bool
	// Resources are per-resource caps ("type:name" -> role); nil is every
	// resource at the owner's role.
	Resources map[string]string
	// Via is how the token was made (authstore.ViaWeb, ViaAdmin, …).
	Via string
}

// Caller is who a self-service operation acts for: the signed-in user,
// the PAT it presented (nil for a session) and the client's IP.
type Caller struct {
	User *authstore.User
	PAT  *authstore.PAT
	IP   string
}

// Actor is the caller as the audit log records it: the token itself
// when a PAT acts, the user otherwise.
func (c Caller) Actor() authstore.Actor {
	a := authstore.UserActor(c.User.ID, c.IP)
	if c.PAT != nil {
		a.Kind = authstore.ActorToken
	}
	return a
}

// Refusals of a revocation. Another user's token is reported like a
// missing one (ErrNoSuchToken), so ids cannot be probed.
var (
	ErrNoSuchToken = &problem.Error{Kind: problem.KindNotFound, Code: "not_found", Reason: "revoke_unknown",
		Err: errors.New("no such token")}
	ErrRevokeMismatch = &problem.Error{Kind: problem.KindInvalid, Reason: "revoke_mismatch",
		Err: errors.New("token and token_id name different tokens")}
	ErrRevokeOther = &problem.Error{Kind: problem.KindForbidden, Code: "forbidden", Reason: "revoke_other",
		Err: errors.New("a token can revoke only itself; use a browser session to revoke others")}
	ErrRevokeMissing = &problem.Error{Kind: problem.KindInvalid, Reason: "revoke_missing",
		Err: errors.New("name the token to revoke with token_id or token")}
)

func badInput(format string, args ...any) error {
	return problem.Errorf(problem.KindInvalid, format, args...)
}

// MintPAT validates req against the policy and u's current grants
// (CheckPATRequest) and creates the token; the plaintext is returned
// here and never again.
func (s *Service) MintPAT(u *authstore.User, req PATRequest, actor authstore.Actor) (string, *authstore.PAT, error) {
	n, err := s.CheckPATRequest(u, req)
	if err != nil {
		return "", nil, err
	}
	tok, p, err := s.Store.CreatePAT(n, actor)
	if err != nil {
		return "", nil, err
	}
	s.log().Info("token created", zap.String("user", u.Login), zap.String("token_id", p.ID),
		zap.String("hint", p.Hint), zap.Strings("scopes", p.Scopes), zap.String("via", req.Via))
	return tok, p, nil
}

// CheckPATRequest is the one validation every way of minting a PAT goes
// through: an enabled owner, a name authstore.CheckTokenName accepts
// (trimmed), scopes from the catalog and held by the owner, a lifetime of
// 1 to pat_max_days (or none where allowed), resource caps naming
// declared types and roles. It returns what to mint.
func (s *Service) CheckPATRequest(u *authstore.User, req PATRequest) (authstore.NewPAT, error) {
	if u.Disabled {
		return authstore.NewPAT{}, problem.Errorf(problem.KindConflict, "user %s is disabled", u.Login)
	}
	name, err := authstore.CheckTokenName(req.Name)
	if err != nil {
		return authstore.NewPAT{}, problem.Wrap(problem.KindInvalid, err)
	}
	if len(req.Scopes) == 0 {
		return authstore.NewPAT{}, badInput("name at least one scope (declared: %s)", strings.Join(s.Policy.Scopes, " "))
	}
	if err := s.Policy.CheckScopes(req.Scopes); err != nil {
		return authstore.NewPAT{}, badInput("%v", err)
	}
	for _, sc := range req.Scopes {
		if !u.HasScope(sc) {
			return authstore.NewPAT{}, badInput("user %s does not hold scope %s", u.Login, sc)
		}
	}
	var expires time.Time
	switch {
	case req.NoExpiry && req.ExpiresDays != 0:
		return authstore.NewPAT{}, badInput("give either an expiry or no expiry, not both")
	case req.NoExpiry && !s.Policy.PATAllowNoExpiry:
		return authstore.NewPAT{}, badInput("tokens must expire here (pat_allow_no_expiry is off); give 1 to %d days", s.Policy.PATMaxDays)
	case req.NoExpiry:
	case req.ExpiresDays < 1 || req.ExpiresDays > s.Policy.PATMaxDays:
		return authstore.NewPAT{}, badInput("expiry %d days: must be 1 to %d", req.ExpiresDays, s.Policy.PATMaxDays)
	default:
		expires = s.now().Add(time.Duration(req.ExpiresDays) * 24 * time.Hour)
	}
	if err := s.CheckResourceCaps(req.Resources); err != nil {
		return authstore.NewPAT{}, badInput("%v", err)
	}
	// Scopes are kept in catalog order, whatever order they were asked in.
	scopes := slices.DeleteFunc(slices.Clone(s.Policy.Scopes), func(sc string) bool { return !slices.Contains(req.Scopes, sc) })
	return authstore.NewPAT{
		UserID: u.ID, Prefix: s.Policy.TokenPrefix, Name: name, Scopes: scopes,
		ResourceCaps: req.Resources, ExpiresAt: expires, CreatedVia: req.Via,
	}, nil
}

// CreateToken is the admin's mint: for any enabled user, with or without
// an expiry (as the policy allows), with caps the user need not hold yet
// (see CheckCapsHeld).
func (s *Service) CreateToken(req api.CreateTokenRequest) (api.CreateTokenResponse, error) {
	u, err := s.Store.UserByLogin(req.User)
	if err != nil {
		return api.CreateTokenResponse{}, err
	}
	tok, p, err := s.MintPAT(u, PATRequest{
		Name: req.Name, Scopes: req.Scopes, ExpiresDays: req.ExpiresDays, NoExpiry: req.NoExpiry,
		Resources: req.Resources, Via: authstore.ViaAdmin,
	}, authstore.AdminActor)
	if err != nil {
		return api.CreateTokenResponse{}, err
	}
	return api.CreateTokenResponse{Token: tok, Info: s.TokenInfo(p, u.Login)}, nil
}

// TokenInfo is what the API, pages and CLI show of a token: never the
// token itself. Names are checked when stored; sanitising here too covers
// tokens stored before that check.
func (s *Service) TokenInfo(p *authstore.PAT, login string) api.TokenInfo {
	return tokenInfo(p, login, s.now())
}

func tokenInfo(p *authstore.PAT, login string, now time.Time) api.TokenInfo {
	v := api.TokenInfo{
		ID: p.ID, User: login, Name: authstore.SanitizeText(p.Name, 4*authstore.MaxTokenNameLen), Hint: p.Hint, Scopes: p.Scopes,
		Resources: p.ResourceCaps, AllResources: p.ResourceCaps == nil,
		Created: p.CreatedAt, LastUsedIP: p.LastUsedIP, CreatedVia: p.CreatedVia, Status: p.Status(now),
	}
	if !p.ExpiresAt.IsZero() {
		v.Expires = &p.ExpiresAt
	}
	if !p.LastUsedAt.IsZero() {
		v.LastUsed = &p.LastUsedAt
	}
	return v
}

// UserTokens lists u's tokens, newest first, with last-used stamps
// flushed so the page shows the latest use.
func (s *Service) UserTokens(u *authstore.User) ([]api.TokenInfo, error) {
	s.Store.FlushTouches()
	pats, err := s.Store.PATs(u.ID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := make([]api.TokenInfo, 0, len(pats))
	for i := len(pats) - 1; i >= 0; i-- {
		out = append(out, tokenInfo(pats[i], u.Login, now))
	}
	return out, nil
}

// Tokens lists the tokens of the user with login, or of every user for
// "", oldest first, as the admin API shows them.
func (s *Service) Tokens(login string) ([]api.TokenInfo, error) {
	s.Store.FlushTouches()
	userID, err := s.UserID(login)
	if err != nil {
		return nil, err
	}
	pats, err := s.Store.PATs(userID)
	if err != nil {
		return nil, err
	}
	out := make([]api.TokenInfo, 0, len(pats))
	now := s.now()
	for _, p := range pats {
		out = append(out, tokenInfo(p, s.LoginOf(p.UserID), now))
	}
	return out, nil
}

// RevokeToken is the admin's revocation of any token by id.
func (s *Service) RevokeToken(id string) (api.TokenInfo, error) {
	return s.RevokeTokenAs(id, authstore.AdminActor)
}

// RevokeOwnPAT revokes one of the caller's own tokens by id; another
// user's token is ErrNoSuchToken, as a missing one is.
func (s *Service) RevokeOwnPAT(c Caller, tokID string) (*authstore.PAT, error) {
	if tokID == "" || len(tokID) > 64 {
		return nil, ErrNoSuchToken
	}
	return s.revokeOwned(c, tokID)
}

// RevokeByCaller is POST /api/auth/revoke (RFC 7009 style): a PAT
// revokes itself, with no parameters or naming itself by tokenID or
// plaintext; a session revokes one of its user's PATs by tokenID or
// plaintext. It returns the revoked token.
func (s *Service) RevokeByCaller(c Caller, tokenID, plaintext string) (*authstore.PAT, error) {
	target := tokenID
	if plaintext != "" {
		p, err := s.LookupPlaintext(plaintext)
		if err != nil {
			return nil, ErrNoSuchToken
		}
		if target != "" && target != p.ID {
			return nil, ErrRevokeMismatch
		}
		target = p.ID
	}
	if c.PAT != nil {
		if target != "" && target != c.PAT.ID {
			return nil, ErrRevokeOther
		}
		target = c.PAT.ID
	}
	if target == "" {
		return nil, ErrRevokeMissing
	}
	return s.revokeOwned(c, target)
}

// revokeOwned revokes tokID if the caller's user owns it.
func (s *Service) revokeOwned(c Caller, tokID string) (*authstore.PAT, error) {
	p, err := s.Store.PAT(tokID)
	if err != nil || p.UserID != c.User.ID {
		return nil, ErrNoSuchToken
	}
	actor := c.Actor()
	p, err = s.Store.RevokePAT(tokID, actor)
	if err != nil {
		s.log().Error("revoking token", zap.String("token_id", tokID), zap.Error(err))
		return nil, fmt.Errorf("revoking token %s: %w", tokID, err)
	}
	s.log().Info("token revoked", zap.String("token_id", tokID), zap.String("user", c.User.Login), zap.String("by", actor.Kind))
	return p, nil
}

// LookupPlaintext finds the record of a plaintext token, whatever its
// state; a token that is not of this deployment's format is refused
// before any lookup.
func (s *Service) LookupPlaintext(tok string) (*authstore.PAT, error) {
	if err := authstore.CheckToken(s.Policy.TokenPrefix, tok); err != nil {
		return nil, err
	}
	return s.Store.PATByToken(tok)
}

// UserID resolves a login to a user id; "" is "" (every user, for a
// listing's filter).
func (s *Service) UserID(login string) (string, error) {
	if login == "" {
		return "", nil
	}
	u, err := s.Store.UserByLogin(login)
	if err != nil {
		return "", err
	}
	return u.ID, nil
}

// LoginOf is the login of user id for listings ("" if it is gone); the
// store's user cache makes repeated owners cheap.
func (s *Service) LoginOf(id string) string {
	if u, err := s.Store.User(id); err == nil {
		return u.Login
	}
	return ""
}
