package api

import "time"

// Identity headers the upstream receives on a request Gatehouse let
// through. Gatehouse deletes every client-supplied header in its
// namespace (Gatehouse-*, X-Gatehouse-*) before it sets these.
const (
	HeaderUserID     = "Gatehouse-User-Id"
	HeaderUser       = "Gatehouse-User"
	HeaderTier       = "Gatehouse-Tier"
	HeaderScopes     = "Gatehouse-Scopes" // separated by spaces
	HeaderCredential = "Gatehouse-Credential"
	HeaderTokenID    = "Gatehouse-Token-Id"
	HeaderResource   = "Gatehouse-Resource" // set by a role rule: "project:atlas"
	HeaderRole       = "Gatehouse-Role"     // the role held on HeaderResource
)

// Response headers clients read.
const (
	// HeaderTokenExpiration carries the expiry of the PAT that
	// authenticated a request, on every response to one, in
	// ExpirationLayout (`2026-09-01 00:00:00 UTC`, as GitHub does).
	HeaderTokenExpiration = "Gatehouse-Token-Expiration"
	// HeaderAcceptedScopes names, on a 403, the scopes the route accepts,
	// separated by spaces.
	HeaderAcceptedScopes = "Gatehouse-Accepted-Scopes"
)

// ExpirationLayout is the time layout of HeaderTokenExpiration; the time
// is always in UTC.
const ExpirationLayout = "2006-01-02 15:04:05 UTC"

// FormatExpiration formats t for HeaderTokenExpiration.
func FormatExpiration(t time.Time) string { return t.UTC().Format(ExpirationLayout) }

// Credential kinds, as HeaderCredential and Whoami.Credential name them.
const (
	CredentialPAT       = "pat"
	CredentialSession   = "session"
	CredentialAnonymous = "anonymous"
)
