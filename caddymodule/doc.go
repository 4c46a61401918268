// Package caddymodule is the Caddy glue of Gatehouse: the `gatehouse` app,
// which owns the store and the compiled policy; the
// `http.handlers.gatehouse` middleware, which authenticates requests,
// applies a site's rules and serves Gatehouse's own endpoints; the
// Caddyfile adapter; and the `admin.api.gatehouse` admin endpoints, which
// the `caddy gatehouse …` commands (package admincli, registered with
// Caddy by caddymodule/gatehousecmd) call. OpenAdmin serves the same
// endpoints in process, over a store no server holds.
//
// What does not need Caddy lives elsewhere (ARCHITECTURE.md): the request
// checks in requestcheck, authentication and admission in gate, the one
// decision in decision, the error model in problem, the shared operations
// in service, the wire shapes in api, the store in authstore, the policy
// in config, the limiter in ratelimit. Gatehouse's own endpoints and pages
// are the last part still here; they move to a plain http.Handler next.
package caddymodule
