package caddymodule

import (
	"net/http"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
)

// Credential kinds, as the upstream sees them in Gatehouse-Credential.
const (
	CredentialPAT       = api.CredentialPAT
	CredentialSession   = api.CredentialSession
	CredentialAnonymous = api.CredentialAnonymous
)

// Identity is who a request acts as, once its credential verified.
type Identity struct {
	Credential string
	User       *authstore.User // nil for anonymous
	PAT        *authstore.PAT  // set for CredentialPAT
	Session    *authstore.Session
	// Browser is true for a browser-login session (cookie, or its JWT as
	// Bearer); false for CLI access tokens and PATs.
	Browser bool
	// Scopes are the effective scopes: a PAT's scopes that its owner still
	// holds and the catalog still declares; a session's are its user's.
	Scopes []string
	// Tier is the rate-limit tier.
	Tier string
	// Resource and Role are set by a rule that demands a resource role:
	// the resource the path names ("project:atlas", the name
	// percent-encoded as in a URL path) and the effective role held on it.
	Resource, Role string

	// cookie is the verified session JWT's claims when the session came
	// from the cookie (sessions.go renews it at half-life).
	cookie *authstore.SessionToken
}

// anonymous is the identity of a request without a credential.
var anonymous = &Identity{Credential: CredentialAnonymous, Tier: "anonymous"}

// HasScope reports whether the identity holds scope s.
func (id *Identity) HasScope(s string) bool { return slices.Contains(id.Scopes, s) }

// patIdentity builds the identity of a verified PAT. A PAT never grants
// more than its owner has now, so its scopes are cut to the owner's
// current scopes and to the catalog.
func (a *App) patIdentity(p *authstore.PAT, u *authstore.User) *Identity {
	return &Identity{
		Credential: CredentialPAT,
		User:       u,
		PAT:        p,
		Scopes:     a.effectiveScopes(p.Scopes, u),
		Tier:       u.Tier,
	}
}

// effectiveScopes returns the scopes of want that u holds and the catalog
// declares; when that is all of want, want itself is returned without
// allocating.
func (a *App) effectiveScopes(want []string, u *authstore.User) []string {
	keep := func(s string) bool { return u.HasScope(s) && slices.Contains(a.policy.Scopes, s) }
	if !slices.ContainsFunc(want, func(s string) bool { return !keep(s) }) {
		return want
	}
	out := make([]string, 0, len(want))
	for _, s := range want {
		if keep(s) {
			out = append(out, s)
		}
	}
	return out
}

// userScopes is every scope u holds.
func (a *App) userScopes(u *authstore.User) []string {
	if u.Scopes == nil {
		return a.policy.Scopes
	}
	return a.effectiveScopes(u.Scopes, u)
}

// forward hands the identity to the upstream as headers (api.Header*;
// every request header in the Gatehouse namespace was deleted before) and
// to the rest of the Caddy route as placeholders.
func forward(r *http.Request, repl *caddy.Replacer, id *Identity) {
	scopes := strings.Join(id.Scopes, " ")
	h := r.Header
	h.Set(api.HeaderCredential, id.Credential)
	h.Set(api.HeaderTier, id.Tier)
	repl.Set("gatehouse.credential", id.Credential)
	repl.Set("gatehouse.tier", id.Tier)
	if id.User == nil {
		return
	}
	h.Set(api.HeaderUserID, id.User.ID)
	h.Set(api.HeaderUser, id.User.Login)
	h.Set(api.HeaderScopes, scopes)
	repl.Set("http.auth.user.id", id.User.ID)
	repl.Set("gatehouse.user_id", id.User.ID)
	repl.Set("gatehouse.user", id.User.Login)
	repl.Set("gatehouse.scopes", scopes)
	if id.PAT != nil {
		h.Set(api.HeaderTokenID, id.PAT.ID)
		repl.Set("gatehouse.token_id", id.PAT.ID)
	}
	if id.Resource != "" {
		h.Set(api.HeaderResource, id.Resource)
		h.Set(api.HeaderRole, id.Role)
		repl.Set("gatehouse.resource", id.Resource)
		repl.Set("gatehouse.role", id.Role)
	}
}
