// Package authstore is Gatehouse's credential store: users, personal access
// tokens (PATs), sessions, device grants and the audit trail, kept in one
// bbolt file per edge.
//
// It owns the credential model (token format, hashing, expiry and revocation
// rules) and the read-through caches that make verification cheap; it knows
// nothing about HTTP, Caddy or policy. Which scopes exist, how long a token
// may live and which tiers are valid are the caller's business (package
// config); the store only enforces what is true of every deployment: secrets
// are stored as SHA-256 hashes, a revoked or expired credential never
// verifies, and every acknowledged write is committed with fsync.
//
// Every method is safe for concurrent use. Values returned by the store are
// immutable snapshots: callers must not modify them.
package authstore
