package api

// Default endpoint paths: where a site whose gatehouse block says
// `endpoints` serves Gatehouse's own endpoints, unless its operator moved
// them (`paths`).
const (
	PathLogin          = "/login"
	PathLoginProvider  = "/login/" // a prefix: /login/{provider} and /login/{provider}/callback
	PathLogout         = "/logout"
	PathSetup          = "/setup"
	PathDevice         = "/device" // the approval page verification_uri names
	PathPAT            = "/pat"
	PathPATAPI         = "/api/pat"
	PathPATAPIToken    = "/api/pat/" // a prefix: DELETE /api/pat/{token id}
	PathDeviceCode     = "/api/oauth/device/code"
	PathDeviceToken    = "/api/oauth/device/token"
	PathSession        = "/api/session"
	PathRefresh        = "/api/refresh"
	PathWhoami         = "/api/whoami"
	PathRevoke         = "/api/auth/revoke"
	PathRegister       = "/v1/auth/register"
	PathRegisterRevoke = "/v1/auth/revoke"
	// PathJWKS publishes the public keys of the identity assertions
	// (Gatehouse-Assertion) for upstreams to verify them.
	PathJWKS = "/.well-known/gatehouse/jwks.json"
	// PathForwardAuth answers nginx's auth_request and Traefik's or
	// Caddy's forward_auth subrequests (forward-auth mode).
	PathForwardAuth = "/gatehouse/auth"
	// PathCredentialsRevoke takes leaked-credential reports from secret
	// scanners (GitHub's credential revocation model).
	PathCredentialsRevoke = "/api/credentials/revoke"
)

// AdminPrefix is where the admin API lives on Caddy's admin endpoint
// (`/gatehouse/status`, `/gatehouse/users`, …).
const AdminPrefix = "/gatehouse/"

// Default paths of the account pages and the admin console.
const (
	PathAccount         = "/account/security"
	PathAccountSessions = "/account/sessions"
	PathSetPassword     = "/account/set-password" // the one-time link of a new account
	PathPasskeys        = "/account/passkeys"     // POST ?op=begin|finish, form action=remove
	PathPasskeyLogin    = "/passkey/login"        // POST ?op=begin|finish
	PathConsole         = "/gatehouse/admin"      // and everything under it
)
