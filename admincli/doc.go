// Package admincli is the `caddy gatehouse …` command tree: users, tokens,
// sessions, memberships, the store and its audit trail. The commands are
// clients of the admin API (package api has the shapes they exchange) and
// reach it through a Target, so this package knows nothing about Caddy:
// package caddymodule/gatehousecmd registers the tree with Caddy's CLI and
// supplies the Target, the running server's admin API or an admin handler
// over the store opened in process.
//
// commands.go holds the whole tree; the command bodies are in files by
// concern (users.go, members.go, sessions.go, tokens.go, store.go).
package admincli
