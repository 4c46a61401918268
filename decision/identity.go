package decision

import (
	"slices"

	"github.com/gatehouse/gatehouse/authstore"
)

// Credential kinds, as the upstream sees them in Gatehouse-Credential.
const (
	CredentialPAT       = "pat"
	CredentialSession   = "session"
	CredentialAnonymous = "anonymous"
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
	// Resource and Role are set by a decision on a rule that demands a
	// resource role: the resource the path names ("project:atlas", the
	// name percent-encoded as in a URL path) and the effective role held
	// on it.
	Resource, Role string
	// Cookie is the verified session JWT's claims when the session came
	// from the cookie, so the cookie can be renewed at half-life.
	Cookie *authstore.SessionToken
}

// Anonymous is the identity of a request without a credential.
var Anonymous = &Identity{Credential: CredentialAnonymous, Tier: "anonymous"}

// HasScope reports whether the identity holds scope s.
func (id *Identity) HasScope(s string) bool { return slices.Contains(id.Scopes, s) }

// EffectiveScopes returns the scopes of want that u holds and catalog
// declares; when that is all of want, want itself is returned without
// allocating. A PAT never grants more than its owner has now, so this is
// applied on every request.
func EffectiveScopes(want []string, u *authstore.User, catalog []string) []string {
	keep := func(s string) bool { return u.HasScope(s) && slices.Contains(catalog, s) }
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

// UserScopes is every scope of the catalog that u holds.
func UserScopes(u *authstore.User, catalog []string) []string {
	if u.Scopes == nil {
		return catalog
	}
	return EffectiveScopes(u.Scopes, u, catalog)
}
