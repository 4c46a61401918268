package api

import "time"

// The admin API's shapes: the operations behind `caddy gatehouse …`,
// served under AdminPrefix on Caddy's admin endpoint. Tokens are in
// tokens.go; a failed call answers Error, as every endpoint does.

// Status is the answer of GET /gatehouse/status.
type Status struct {
	Store       string   `json:"store"` // the store file's path
	Users       int      `json:"users"`
	Tokens      int      `json:"tokens"`
	TokenPrefix string   `json:"token_prefix"`
	Scopes      []string `json:"scopes"` // the catalog
	Tiers       []string `json:"tiers"`  // sorted
	// Engine is "bbolt" (one edge, Store is its file) or "etcd" (fleet
	// mode, Store is this edge's mirror, Fleet says how current it is).
	Engine string       `json:"engine"`
	Fleet  *FleetStatus `json:"fleet,omitempty"`
}

// FleetStatus is an edge's view of its fleet: its mirror's applied etcd
// revision, how long ago it was last known current, and the live edges.
type FleetStatus struct {
	EdgeID    string   `json:"edge_id"`
	Endpoints []string `json:"endpoints"`
	Prefix    string   `json:"prefix"`
	Applied   int64    `json:"applied_revision"`
	Known     int64    `json:"known_revision"`
	// StalenessMS is how long ago the mirror was last known current.
	StalenessMS int64       `json:"staleness_ms"`
	Stale       bool        `json:"stale"` // past max_staleness
	Resyncs     int64       `json:"resyncs"`
	Conflicts   int64       `json:"conflicts"`
	Outbox      int64       `json:"outbox"` // revokes waiting for etcd
	Edges       []FleetEdge `json:"edges"`
}

// FleetEdge is one live edge in the fleet's registry.
type FleetEdge struct {
	ID      string    `json:"id"`
	Version string    `json:"version,omitempty"`
	Applied int64     `json:"applied_revision"`
	Started time.Time `json:"started"`
	Updated time.Time `json:"updated"`
}

// UserInfo is a user as the admin API shows it: no password hash, no
// TOTP seed.
type UserInfo struct {
	ID    string `json:"id"`
	Login string `json:"login"`
	Kind  string `json:"kind"` // "user" or "agent"
	Tier  string `json:"tier"`
	// Scopes are every scope the user holds now.
	Scopes []string `json:"scopes"`
	// AllScopes is true for a user not limited to a list of scopes.
	AllScopes bool `json:"all_scopes"`
	Disabled  bool `json:"disabled"`
	// Admin is the administrator role (the console).
	Admin bool `json:"admin,omitempty"`
	// Password and TOTP say whether the user has them.
	Password bool `json:"password"`
	TOTP     bool `json:"totp"`
	// Passkeys is how many passkeys the user has.
	Passkeys int `json:"passkeys,omitempty"`
	// Memberships are the user's roles by resource ("project:atlas" ->
	// "edit").
	Memberships map[string]string `json:"memberships,omitempty"`
	Created     time.Time         `json:"created"`
}

// CreateUserRequest is the JSON body of POST /gatehouse/users.
type CreateUserRequest struct {
	Login string `json:"login"`
	Tier  string `json:"tier,omitempty"` // empty: the default tier
	// Scopes limits what the user may hold; nil (null or absent) means
	// every scope, an empty list none. omitzero, not omitempty: that
	// would send an empty list as absent, a user with no scopes as one
	// with all.
	Scopes []string `json:"scopes,omitzero"`
	// Admin gives the new user the administrator role.
	Admin bool `json:"admin,omitempty"`
}

// SetAdminRequest is the JSON body of POST /gatehouse/users/{login}/admin.
type SetAdminRequest struct {
	Admin bool `json:"admin"`
}

// SetTierRequest is the JSON body of POST /gatehouse/users/{login}/tier.
type SetTierRequest struct {
	Tier string `json:"tier"`
}

// SetPasswordRequest is the JSON body of POST
// /gatehouse/users/{login}/password. It carries a password hash, never a
// password: `caddy gatehouse user passwd` hashes on the operator's side,
// so the plaintext does not cross the admin API.
type SetPasswordRequest struct {
	PasswordHash string `json:"password_hash"`
}

// SetPasswordResponse answers a password change, which ends the user's
// sessions.
type SetPasswordResponse struct {
	User            UserInfo `json:"user"`
	SessionsRevoked int      `json:"sessions_revoked"`
}

// TOTPResponse answers POST and DELETE /gatehouse/users/{login}/totp.
type TOTPResponse struct {
	User UserInfo `json:"user"`
	// URL is the otpauth:// URL with the secret, shown once, when TOTP
	// was enabled.
	URL string `json:"otpauth_url,omitempty"`
}

// SessionInfo is a session as listings show it (GET /gatehouse/sessions);
// a session has no secret to hide (its JWT is not stored).
type SessionInfo struct {
	ID         string     `json:"id"`
	User       string     `json:"user"` // the owner's login
	Kind       string     `json:"kind"` // "browser" or "cli"
	Created    time.Time  `json:"created"`
	Expires    time.Time  `json:"expires"`
	LastSeen   *time.Time `json:"last_seen"` // null if never seen since login
	LastSeenIP string     `json:"last_seen_ip,omitempty"`
	IP         string     `json:"ip,omitempty"` // where it logged in
	UserAgent  string     `json:"user_agent,omitempty"`
	Status     string     `json:"status"` // active, expired or revoked
	Revoked    *time.Time `json:"revoked,omitempty"`
	Reason     string     `json:"revoked_reason,omitempty"`
}

// RevokeSessionsResponse answers DELETE /gatehouse/users/{login}/sessions.
type RevokeSessionsResponse struct {
	User    string `json:"user"`
	Revoked int    `json:"revoked"`
}

// Membership is one role a user holds on a resource, as GET
// /gatehouse/members lists it.
type Membership struct {
	User     string `json:"user"`
	Type     string `json:"type"`
	Name     string `json:"name"`
	Role     string `json:"role"`
	Resource string `json:"resource"` // "project:atlas"
	// Declared is false for a membership whose type or role the current
	// configuration no longer declares; it grants nothing.
	Declared bool `json:"declared"`
}

// MembershipRequest is the JSON body of PUT and DELETE /gatehouse/members.
type MembershipRequest struct {
	User string `json:"user"`
	Type string `json:"type"`
	Name string `json:"name"`
	Role string `json:"role,omitempty"` // PUT only
}

// MembershipChange answers a membership write: the role now held (""
// after a removal) and the role it replaced ("" for a new membership).
type MembershipChange struct {
	User     string `json:"user"`
	Type     string `json:"type"`
	Name     string `json:"name"`
	Resource string `json:"resource"`
	Role     string `json:"role"`
	Previous string `json:"previous"`
}

// RotateKeyResponse is the answer of POST /gatehouse/store/rotate-key.
type RotateKeyResponse struct {
	// KeyID is the kid new session JWTs carry from now on.
	KeyID string `json:"key_id"`
}

// StoreCheck is the answer of GET /gatehouse/store/check.
type StoreCheck struct {
	// Problems lists what the check found; empty, never null, when the
	// store is sound.
	Problems []string `json:"problems"`
	Store    string   `json:"store"` // the store file's path
}

// AuditEvent is one record of the audit trail (GET /gatehouse/audit). It
// never holds a secret.
type AuditEvent struct {
	Seq     uint64     `json:"seq"`
	Time    time.Time  `json:"time"`
	Action  string     `json:"action"`
	Actor   AuditActor `json:"actor"`
	UserID  string     `json:"user_id,omitempty"`
	TokenID string     `json:"token_id,omitempty"`
	Detail  string     `json:"detail,omitempty"`
	// Edge and Revision tag a fleet edge's records: the edge that made
	// the change and the etcd revision its commit created.
	Edge     string `json:"edge,omitempty"`
	Revision int64  `json:"revision,omitempty"`
}

// AuditActor is who caused an audited change.
type AuditActor struct {
	// Kind is "admin" (CLI or admin API), "user" (self-service), "token"
	// (a PAT acting on itself), "registration" (an agent registering
	// itself) or "system".
	Kind   string `json:"kind"`
	UserID string `json:"user_id,omitempty"`
	IP     string `json:"ip,omitempty"`
}

// IdentityLink is one external identity linked to an account, as GET
// /gatehouse/identities lists it: the account signs in through Provider
// when the provider says Subject.
type IdentityLink struct {
	User     string    `json:"user"`
	Provider string    `json:"provider"`
	Subject  string    `json:"subject"`
	Linked   time.Time `json:"linked"`
}

// IdentityLinkRequest is the JSON body of PUT (link) and DELETE (unlink)
// /gatehouse/identities; User is ignored by DELETE.
type IdentityLinkRequest struct {
	User     string `json:"user,omitempty"`
	Provider string `json:"provider"`
	Subject  string `json:"subject"`
}

// AssertionKey is one identity-assertion signing key as GET
// /gatehouse/keys lists it: never the private half.
type AssertionKey struct {
	KeyID     string    `json:"key_id"`
	Alg       string    `json:"alg"`
	CreatedAt time.Time `json:"created_at"`
	// RetiredAt is when a newer key replaced it; absent while current.
	RetiredAt *time.Time `json:"retired_at,omitempty"`
	// PublishUntil is when a retired key leaves the JWKS.
	PublishUntil *time.Time `json:"publish_until,omitempty"`
	// Published says whether the JWKS lists it now.
	Published bool `json:"published"`
}

// RotateAssertionKeyRequest is the body of POST
// /gatehouse/store/rotate-key/assertion.
type RotateAssertionKeyRequest struct {
	// Alg is EdDSA (default) or ES256.
	Alg string `json:"alg,omitempty"`
	// Overlap is how long the replaced key stays published, as a Go
	// duration ("24h"). Default: 24h.
	Overlap string `json:"overlap,omitempty"`
}
