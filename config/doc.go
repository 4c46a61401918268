// Package config is Gatehouse's policy model: the scope catalog, tiers and
// budgets, resource roles, credential lifetimes and a site's route rules,
// with the validation and the rule matching that do not depend on how the
// configuration was written.
//
// The types carry JSON tags because Caddy's JSON config is the source of
// truth; the Caddyfile adapter in package caddymodule only fills them. This
// package does not read files, talk to the store or know about Caddy.
package config
