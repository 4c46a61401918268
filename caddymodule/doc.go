// Package caddymodule is the Caddy adapter of Gatehouse and the only
// package (with its subpackages, cmd/caddy and the root plugin.go) that
// imports Caddy: the `gatehouse` app, which compiles the policy and keeps
// what outlives a config generation (the open store, the rate limiters,
// the backoffs, the setup offer) in caddy.UsagePools; the
// `http.handlers.gatehouse` middleware, which runs the request checks,
// admits requests through package gate and hands the upstream the
// identity, and passes a site's endpoint requests to an endpoints.Site;
// the Caddyfile syntax; the `admin.api.gatehouse` module, which serves
// package adminapi; metrics; and the request facts only Caddy knows
// (client IP and scheme under trusted_proxies, placeholders).
//
// Everything else is plain Go (ARCHITECTURE.md). OpenAdmin serves the
// admin API in process, over a store no server holds.
package caddymodule
