// Package api is the wire contract of Gatehouse's HTTP API: the JSON
// request and response shapes of the endpoints Gatehouse serves itself
// (who-am-I, revocation, the device grant, CLI sessions, PAT management,
// agent registration) and of its admin API (`/gatehouse/…` on Caddy's
// admin endpoint), the JSON error bodies, the header names it sets for
// clients and upstreams, the default endpoint paths, the device grant
// type, the layout of the token expiry header and the form parameter
// names.
//
// The server (packages endpoints and adminapi), the Go client (package client), its
// fake (package client/gatehousetest) and the tests all use these
// declarations, so the contract is written down once; golden_test.go
// freezes the JSON of every shape, and a change to it fails that test.
//
// It holds data and names only: no behaviour, no validation, and no
// dependency beyond the standard library (no Caddy, no authstore).
package api
