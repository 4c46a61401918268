// Package requestcheck refuses or cleans the parts of a request that one
// layer could read differently from another: Gatehouse judges a request by
// its method, path and headers, and the upstream (Caddy's proxy, then a
// framework such as Rails, Django or an IIS server) must act on exactly
// what was judged. A request that could mean two things is refused with a
// Problem (400, 413) before any rule or credential is looked at; headers
// that would change the meaning afterwards (method overrides, Connection
// tokens, trailers in Gatehouse's namespace) are removed.
//
// The package knows HTTP and nothing of Caddy, the store or the rules;
// the Caddy handler calls it first on every request.
package requestcheck
