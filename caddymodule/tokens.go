package caddymodule

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/authstore"
)

// Minting PATs: the admin CLI, the PAT page and API, device approval and
// agent registration all validate and create tokens here.

// requestError is a refusal of what was asked (4xx) with a message fit
// for whoever asked: the operator on the admin API and CLI, the user on
// the PAT page and API.
type requestError struct {
	status int
	err    error
}

func (e requestError) Error() string { return e.err.Error() }
func (e requestError) Unwrap() error { return e.err }

func badInput(format string, args ...any) error {
	return requestError{status: http.StatusBadRequest, err: fmt.Errorf(format, args...)}
}

// patRequest is what every way of minting a PAT asks for (admin CLI, PAT
// page and API, device approval, registration).
type patRequest struct {
	Name        string
	Scopes      []string
	ExpiresDays int
	NoExpiry    bool
	Resources   map[string]string
	Via         string
}

// mintPAT validates a request against the policy and the owner's current
// grants and creates the token.
func (a *App) mintPAT(u *authstore.User, req patRequest, actor authstore.Actor) (string, *authstore.PAT, error) {
	n, err := a.checkPATRequest(u, req)
	if err != nil {
		return "", nil, err
	}
	tok, p, err := a.store.CreatePAT(n, actor)
	if err != nil {
		return "", nil, err
	}
	a.logger.Info("token created", zap.String("user", u.Login), zap.String("token_id", p.ID),
		zap.String("hint", p.Hint), zap.Strings("scopes", p.Scopes), zap.String("via", req.Via))
	return tok, p, nil
}

// checkPATRequest is the one validation every way of minting a PAT goes
// through: a name authstore.CheckTokenName accepts (trimmed), scopes from
// the catalog and held by the owner, a lifetime of 1 to pat_max_days (or
// none where allowed), resource caps naming declared types and roles. It
// returns what to mint.
func (a *App) checkPATRequest(u *authstore.User, req patRequest) (authstore.NewPAT, error) {
	if u.Disabled {
		return authstore.NewPAT{}, requestError{status: http.StatusConflict, err: fmt.Errorf("user %s is disabled", u.Login)}
	}
	name, err := authstore.CheckTokenName(req.Name)
	if err != nil {
		return authstore.NewPAT{}, requestError{status: http.StatusBadRequest, err: err}
	}
	if len(req.Scopes) == 0 {
		return authstore.NewPAT{}, badInput("name at least one scope (declared: %s)", strings.Join(a.policy.Scopes, " "))
	}
	if err := a.policy.CheckScopes(req.Scopes); err != nil {
		return authstore.NewPAT{}, badInput("%v", err)
	}
	for _, s := range req.Scopes {
		if !u.HasScope(s) {
			return authstore.NewPAT{}, badInput("user %s does not hold scope %s", u.Login, s)
		}
	}
	var expires time.Time
	switch {
	case req.NoExpiry && req.ExpiresDays != 0:
		return authstore.NewPAT{}, badInput("give either an expiry or no expiry, not both")
	case req.NoExpiry && !a.policy.PATAllowNoExpiry:
		return authstore.NewPAT{}, badInput("tokens must expire here (pat_allow_no_expiry is off); give 1 to %d days", a.policy.PATMaxDays)
	case req.NoExpiry:
	case req.ExpiresDays < 1 || req.ExpiresDays > a.policy.PATMaxDays:
		return authstore.NewPAT{}, badInput("expiry %d days: must be 1 to %d", req.ExpiresDays, a.policy.PATMaxDays)
	default:
		expires = time.Now().Add(time.Duration(req.ExpiresDays) * 24 * time.Hour)
	}
	if err := a.checkResourceCaps(req.Resources); err != nil {
		return authstore.NewPAT{}, badInput("%v", err)
	}
	// Scopes are kept in catalog order, whatever order they were asked in.
	scopes := slices.DeleteFunc(slices.Clone(a.policy.Scopes), func(s string) bool { return !slices.Contains(req.Scopes, s) })
	return authstore.NewPAT{
		UserID: u.ID, Prefix: a.policy.TokenPrefix, Name: name, Scopes: scopes,
		ResourceCaps: req.Resources, ExpiresAt: expires, CreatedVia: req.Via,
	}, nil
}

// checkResourceCaps validates "type:name" -> role caps against the
// declared resource types and the resource name rules (memberships.go).
func (a *App) checkResourceCaps(caps map[string]string) error {
	keys := make([]string, 0, len(caps))
	for k := range caps {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		if err := a.checkResourceCap(key, caps[key]); err != nil {
			return err
		}
	}
	return nil
}
