package caddymodule

import (
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// The scheme and host the client used. Behind a TLS-terminating proxy the
// connection Caddy sees is plain HTTP; X-Forwarded-Proto and -Host then
// say what the browser used, but only a proxy listed in the server's
// trusted_proxies is believed.

// isHTTPS reports whether the client reached the site over TLS.
func isHTTPS(r *http.Request) bool { return requestScheme(r) == "https" }

func requestScheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	if fromTrustedProxy(r) {
		if p := firstValue(r.Header.Get("X-Forwarded-Proto")); p == "http" || p == "https" {
			return p
		}
	}
	return "http"
}

// externalBase is scheme://host as the client addressed the site, for
// links it must follow (device verification URIs).
func externalBase(r *http.Request) string {
	host := r.Host
	if fromTrustedProxy(r) {
		if h := firstValue(r.Header.Get("X-Forwarded-Host")); h != "" && !strings.ContainsAny(h, "/\\@ ") {
			host = h
		}
	}
	return requestScheme(r) + "://" + host
}

func fromTrustedProxy(r *http.Request) bool {
	trusted, _ := caddyhttp.GetVar(r.Context(), caddyhttp.TrustedProxyVarKey).(bool)
	return trusted
}

func firstValue(v string) string {
	first, _, _ := strings.Cut(v, ",")
	return strings.TrimSpace(first)
}
