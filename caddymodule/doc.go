// Package caddymodule is the Caddy glue of Gatehouse: the `gatehouse` app,
// which owns the store and the compiled policy; the
// `http.handlers.gatehouse` middleware, which authenticates requests,
// applies a site's rules and serves Gatehouse's own endpoints; the
// Caddyfile adapter; and the `admin.api.gatehouse` admin endpoints, which
// the `caddy gatehouse …` commands (package admincli, registered with
// Caddy by caddymodule/gatehousecmd) call. OpenAdmin serves the same
// endpoints in process, over a store no server holds.
//
// Everything that does not need Caddy lives elsewhere: the credential store
// in package authstore, the policy model and rule matching in package
// config, the limiter in package ratelimit, the operations the endpoints
// and the admin API share (minting, revoking, caps, memberships, users) in
// package service, and the answers to their errors in package problem.
package caddymodule
