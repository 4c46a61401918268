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
