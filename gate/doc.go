// Package gate authenticates and admits the requests Gatehouse guards:
// it reads the credential a request presents (a Bearer PAT, a session JWT
// as Bearer, or the session cookie), verifies it against the store, has
// decision.Decide apply the route's requirement, refuses cross-origin
// writes that ride on a session cookie, charges the caller's rate-limit
// budget and renews a session cookie at half-life. Admit runs those steps
// in that order for the site's routes and Gatehouse's own endpoints
// alike; Refuse is the first step of answering any denial.
//
// It also hands the upstream its identity headers and strips the caller's
// credentials from what is forwarded.
//
// It is plain Go: no Caddy import. What it needs from its host comes
// through small interfaces: Facts (the client IP and scheme, which Caddy
// computes from trusted_proxies) and Store. It does not log or count
// denials, nor write responses: the caller does, with package problem.
package gate
