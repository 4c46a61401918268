package caddymodule

import (
	"cmp"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse/gatehouse/assertion"
)

// AssertionOptions turn on the signed identity assertion: every request
// the site lets through carries Gatehouse-Assertion, a JWT the upstream
// verifies against the JWKS at /.well-known/gatehouse/jwks.json (served
// by a site with `endpoints`).
type AssertionOptions struct {
	// Audience is the aud claim: who the upstream is. Default: the host
	// the client addressed, without the port.
	Audience string `json:"audience,omitempty"`
	// Issuer is the iss claim. Default: the realm.
	Issuer string `json:"issuer,omitempty"`
	// Alg is EdDSA (default) or ES256.
	Alg string `json:"alg,omitempty"`
	// TTL is the assertion's lifetime, at most 1m (the default).
	TTL caddy.Duration `json:"ttl,omitempty"`
}

// provisionAssertion builds the handler's signer over the app's store.
func (h *Handler) provisionAssertion() error {
	if h.Assertion == nil {
		return nil
	}
	o := h.Assertion
	s, err := assertion.New(assertion.Config{
		Keys:   func() assertion.Keys { return h.app.store },
		Issuer: cmp.Or(o.Issuer, h.app.policy.Realm),
		Alg:    o.Alg,
		TTL:    time.Duration(o.TTL),
	})
	if err != nil {
		return fmt.Errorf("gatehouse assertion: %w", err)
	}
	h.signer = s
	return nil
}

// assert adds the signed assertion of id to the request for the upstream.
func (h *Handler) assert(r *http.Request, id *Identity) error {
	tok, err := h.signer.Assertion(id, h.audience(r))
	if err != nil {
		return err
	}
	r.Header[assertion.Header] = []string{tok}
	return nil
}

// audience is the aud of r's assertion: the configured one, or the
// host the client addressed.
func (h *Handler) audience(r *http.Request) string {
	if h.Assertion.Audience != "" {
		return h.Assertion.Audience
	}
	return requestHost(r)
}

// requestHost is the host the client addressed, lower case, without the
// port.
func requestHost(r *http.Request) string {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.ToLower(host)
}
