// Package forwardauth is Gatehouse's forward-auth mode, for proxies other
// than Caddy's inline handler: nginx's auth_request and Traefik's or
// Caddy's forward_auth ask Gatehouse about each request with a
// subrequest that carries the original method and URI in headers
// (X-Original-Method/X-Original-URI for nginx,
// X-Forwarded-Method/X-Forwarded-Uri for Traefik and Caddy). The package
// rebuilds the original request from them, for the site's rules and the
// gate to judge as if it had arrived inline, and only when the subrequest
// comes from a trusted proxy. It serves no route itself: package
// endpoints mounts it.
package forwardauth
