package endpoints

import (
	"net/http"

	"github.com/gatehouse/gatehouse/assertion"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/decision"
	"github.com/gatehouse/gatehouse/forwardauth"
	"github.com/gatehouse/gatehouse/gate"
	"github.com/gatehouse/gatehouse/problem"
)

// ForwardAuth is what forward-auth mode judges with: the site's own rules
// and identity headers, so a proxy in front gets the answers inline mode
// would give.
type ForwardAuth struct {
	Rules   *config.Rules
	Trust   forwardauth.TrustFacts
	Headers *gate.UpstreamHeaders
	// Assert signs the identity assertion for the original request; nil
	// when the site has none.
	Assert func(orig *http.Request, id *decision.Identity) (string, error)
}

// serveForwardAuth answers a proxy's subrequest about an original
// request: 200 with the identity headers (and Gatehouse-Assertion) for
// the proxy to copy to the upstream, or the 400/401/403/429 inline mode
// would answer. The original request is judged with the site's rules by
// the same gate, and draws on the same rate-limit budgets.
func (s *Site) serveForwardAuth(w http.ResponseWriter, r *http.Request, _ *decision.Identity) error {
	if s.forward == nil {
		return s.refuse(w, r, problem.New(http.StatusNotFound, "not_found", "forward_auth_off",
			"forward-auth is not enabled on this site (forward_auth in its gatehouse block)"), nil)
	}
	orig, p := forwardauth.Original(r, s.forward.Trust)
	if p != nil {
		return s.refuse(w, r, p, nil)
	}
	rule, params := forwardauth.Match(s.forward.Rules, orig)
	id, d := s.gate.Admit(w, orig, gate.Route{Rule: rule, Params: &params, Limit: rule.Limit})
	if d != nil {
		return s.refuse(w, orig, d, id)
	}
	// Signed first: a failure is a 500, which Caddy's forward_auth and
	// Traefik hand to the client as it is, so it must carry no identity.
	var tok string
	if s.forward.Assert != nil {
		var err error
		if tok, err = s.forward.Assert(orig, id); err != nil {
			return err
		}
	}
	h := w.Header()
	s.forward.Headers.Set(h, id)
	if tok != "" {
		h.Set(assertion.Header, tok)
	}
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	s.metrics.Decision(nil)
	return nil
}
