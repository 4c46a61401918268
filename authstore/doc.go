// Package authstore is Gatehouse's credential store: users, personal access
// tokens (PATs), sessions, device grants and the audit trail, kept in one
// bbolt file per edge or, in fleet mode (Options.Fleet), in etcd with the
// file as this edge's mirror: reads stay local, writes are optimistic etcd
// transactions, a watch keeps the mirror and the caches current (fleet.go,
// mirror.go, txn.go).
//
// It owns the credential model (token format, hashing, expiry and revocation
// rules) and the read-through caches that make verification cheap; it knows
// nothing about HTTP, Caddy or policy. Which scopes exist, how long a token
// may live and which tiers are valid are the caller's business (package
// config); the store only enforces what is true of every deployment: secrets
// are stored as SHA-256 hashes, a revoked or expired credential never
// verifies, and every acknowledged write is committed with fsync (by bbolt,
// or by an etcd quorum in fleet mode).
//
// Every method is safe for concurrent use. Values returned by the store are
// immutable snapshots: callers must not modify them.
package authstore
