package endpoints

import (
	"net/http"

	"github.com/gatehouse/gatehouse/assertion"
	"github.com/gatehouse/gatehouse/decision"
	"github.com/gatehouse/gatehouse/internal/clock"
)

// serveJWKS answers GET /.well-known/gatehouse/jwks.json: the public
// keys of the identity assertions, current and within their overlap, so
// an upstream can verify Gatehouse-Assertion. Open to anyone; public
// keys are no secret.
func (s *Site) serveJWKS(w http.ResponseWriter, _ *http.Request, _ *decision.Identity) error {
	keys, err := s.svc().Store.AssertionKeys()
	if err != nil {
		return err
	}
	return assertion.ServeJWKS(w, keys, clock.Now())
}
