// Package service holds Gatehouse's shared operations: minting and
// revoking personal access tokens, resource caps, memberships, the admin
// API's user operations, password logins behind the failed-login backoff
// (CheckPassword, CLILogin), CLI sessions and their refresh, and the
// first-admin setup. The pages, the JSON API, device approval, the admin
// API and the CLI (through the admin API) all call it, so each business
// rule is written once.
//
// State that must outlive a config reload (the per-store Backoff) is
// owned by whoever keeps the store open and handed to the Service in a
// field; the package keeps no process globals.
//
// It is plain Go over the store (package authstore) and the policy
// (package config). It knows no HTTP request, no Caddy and no page: its
// errors are store sentinels or refusals (*problem.Error) that say what
// kind of refusal they are, and problem.From is the one table that turns
// them into answers.
package service
