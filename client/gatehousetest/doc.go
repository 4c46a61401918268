// Package gatehousetest is an in-memory fake of the HTTP contract of a
// Gatehouse server (device login, whoami, self-revoke, RFC 6750 denials,
// rate limiting, token expiry headers), built on net/http/httptest, for the
// unit tests of clients: package client, cmd/gatehouse, and any CLI that
// embeds package client. It answers with the shapes, header names and
// paths of package api, as the server does.
//
// It is not a server: there is no user store, no browser page, no policy.
// Tests approve device logins by calling [Server.Approve] or through
// [Server.SetDecide], and make tokens directly with [Server.IssueToken].
// End-to-end behaviour is tested against a real Caddy with Gatehouse.
package gatehousetest
