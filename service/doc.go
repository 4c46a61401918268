// Package service holds Gatehouse's shared operations: minting and
// revoking personal access tokens, resource caps, memberships and the
// admin API's user operations. The PAT page, the JSON API, device
// approval, the admin API and the CLI (through the admin API) all call
// it, so each business rule is written once.
//
// It is plain Go over the store (package authstore) and the policy
// (package config). It knows no HTTP request, no Caddy and no page: its
// errors are store sentinels or refusals (*problem.Error) that say what
// kind of refusal they are, and problem.From is the one table that turns
// them into answers.
package service
