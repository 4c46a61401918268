// Package idp signs people in through external identity providers: an
// OpenID Connect provider (the authorization code flow with PKCE S256,
// the ID token verified by go-oidc against the provider's JWKS) or
// GitHub (the OAuth web flow with PKCE, the person read from its REST
// API).
//
// It owns the provider side of a browser sign-in and nothing after it:
// the flow's state, nonce and PKCE verifier (sealed in a short-lived,
// one-use cookie, flow.go), the provider's checks (issuer, audience,
// expiry, nonce, algorithms; verified email; allowed email domains,
// groups, GitHub organisations and teams), and the two handlers, Start
// (GET /login/<name>) and Callback (GET /login/<name>/callback). Turning
// the provider's Identity into an account (service.SignInExternal) and
// starting the browser session are injected through Env, so the session
// is the one the local login starts. It imports no Caddy.
package idp
