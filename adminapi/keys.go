package adminapi

import (
	"net/http"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/problem"
)

// adminRotateKey makes a new session signing key current. Sessions keep
// working: their JWTs, signed with an older key, verify until they
// expire (the old keys stay in the store).
func (a *server) adminRotateKey(w http.ResponseWriter, _ *http.Request) error {
	kid, err := a.svc().Store.RotateSigningKey(authstore.AdminActor)
	if err != nil {
		return err
	}
	a.logger.Info("session signing key rotated", zap.String("key_id", kid))
	problem.WriteJSON(w, http.StatusOK, api.RotateKeyResponse{KeyID: kid})
	return nil
}

// adminRotateAssertionKey makes a new identity-assertion key current;
// the replaced one stays in the JWKS for the overlap.
func (a *server) adminRotateAssertionKey(w http.ResponseWriter, r *http.Request) error {
	var req api.RotateAssertionKeyRequest
	if r.ContentLength != 0 {
		if err := decode(r, &req); err != nil {
			return err
		}
	}
	kid, err := a.svc().RotateAssertionKey(req, authstore.AdminActor)
	if err != nil {
		return err
	}
	a.logger.Info("assertion signing key rotated", zap.String("key_id", kid))
	problem.WriteJSON(w, http.StatusOK, api.RotateKeyResponse{KeyID: kid})
	return nil
}

// adminListKeys lists the identity-assertion keys, never their private
// halves.
func (a *server) adminListKeys(w http.ResponseWriter, _ *http.Request) error {
	keys, err := a.svc().AssertionKeys()
	if err != nil {
		return err
	}
	problem.WriteJSON(w, http.StatusOK, keys)
	return nil
}
