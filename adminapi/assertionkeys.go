package adminapi

import (
	"net/http"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/internal/reqbody"
)

// rotateAssertionKey makes a new identity-assertion key current; the
// replaced one stays in the JWKS for the overlap. The body is optional
// (the defaults: EdDSA, 24h).
func (a *server) rotateAssertionKey(r *http.Request) (any, error) {
	var req api.RotateAssertionKeyRequest
	if r.ContentLength != 0 {
		if d := reqbody.DecodeJSON(r, &req); d != nil {
			return nil, d
		}
	}
	kid, err := a.svc().RotateAssertionKey(req, authstore.AdminActor)
	if err != nil {
		return nil, err
	}
	a.logger.Info("assertion signing key rotated", zap.String("key_id", kid))
	return api.RotateKeyResponse{KeyID: kid}, nil
}

// assertionKeys lists the identity-assertion keys, never their private
// halves.
func (a *server) assertionKeys(*http.Request) (any, error) { return a.svc().AssertionKeys() }
