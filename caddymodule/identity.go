package caddymodule

import (
	"net/http"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/decision"
)

// Identity is who a request acts as; see package decision.
type Identity = decision.Identity

// Credential kinds, as the upstream sees them in Gatehouse-Credential.
const (
	CredentialPAT       = decision.CredentialPAT
	CredentialSession   = decision.CredentialSession
	CredentialAnonymous = decision.CredentialAnonymous
)

// anonymous is the identity of a request without a credential.
var anonymous = decision.Anonymous

// patIdentity builds the identity of a verified PAT. A PAT never grants
// more than its owner has now, so its scopes are cut to the owner's
// current scopes and to the catalog.
func (a *App) patIdentity(p *authstore.PAT, u *authstore.User) *Identity {
	return &Identity{
		Credential: CredentialPAT,
		User:       u,
		PAT:        p,
		Scopes:     decision.EffectiveScopes(p.Scopes, u, a.policy.Scopes),
		Tier:       u.Tier,
	}
}

// userScopes is every scope u holds.
func (a *App) userScopes(u *authstore.User) []string {
	return decision.UserScopes(u, a.policy.Scopes)
}

// Identity headers the upstream receives. Every request header in the
// Gatehouse namespace is deleted before any is set, whatever the outcome.
const (
	headerUserID     = "Gatehouse-User-Id"
	headerUser       = "Gatehouse-User"
	headerTier       = "Gatehouse-Tier"
	headerScopes     = "Gatehouse-Scopes"
	headerCredential = "Gatehouse-Credential"
	headerTokenID    = "Gatehouse-Token-Id"
	headerResource   = "Gatehouse-Resource"
	headerRole       = "Gatehouse-Role"

	headerTokenExpiration = "Gatehouse-Token-Expiration"
	headerAcceptedScopes  = "Gatehouse-Accepted-Scopes"
)

// forward hands the identity to the upstream as headers and to the rest of
// the Caddy route as placeholders.
func forward(r *http.Request, repl *caddy.Replacer, id *Identity) {
	scopes := strings.Join(id.Scopes, " ")
	h := r.Header
	h.Set(headerCredential, id.Credential)
	h.Set(headerTier, id.Tier)
	repl.Set("gatehouse.credential", id.Credential)
	repl.Set("gatehouse.tier", id.Tier)
	if id.User == nil {
		return
	}
	h.Set(headerUserID, id.User.ID)
	h.Set(headerUser, id.User.Login)
	h.Set(headerScopes, scopes)
	repl.Set("http.auth.user.id", id.User.ID)
	repl.Set("gatehouse.user_id", id.User.ID)
	repl.Set("gatehouse.user", id.User.Login)
	repl.Set("gatehouse.scopes", scopes)
	if id.PAT != nil {
		h.Set(headerTokenID, id.PAT.ID)
		repl.Set("gatehouse.token_id", id.PAT.ID)
	}
	if id.Resource != "" {
		h.Set(headerResource, id.Resource)
		h.Set(headerRole, id.Role)
		repl.Set("gatehouse.resource", id.Resource)
		repl.Set("gatehouse.role", id.Role)
	}
}

// expirationHeader formats a token's expiry as GitHub does in
// GitHub-Authentication-Token-Expiration.
func expirationHeader(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}
