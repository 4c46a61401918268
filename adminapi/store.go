package adminapi

import (
	"net/http"
	"strconv"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/problem"
)

// Tokens, the audit trail and the store itself.

func (a *server) tokens(r *http.Request) (any, error) {
	return a.svc().Tokens(r.URL.Query().Get("user"))
}

func (a *server) createToken(_ *http.Request, req api.CreateTokenRequest) (any, error) {
	return a.svc().CreateToken(req)
}

func (a *server) revokeToken(r *http.Request) (any, error) {
	return a.svc().RevokeToken(r.PathValue("id"))
}

// audit answers the newest events (?limit=, default 100), of one user's
// (?user=) or all.
func (a *server) audit(r *http.Request) (any, error) {
	limit := 100
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return nil, problem.Errorf(problem.KindInvalid, "limit %q: want a positive number", s)
		}
		limit = n
	}
	return a.svc().Audit(r.URL.Query().Get("user"), limit)
}

func (a *server) status(*http.Request) (any, error) { return a.svc().Status() }

func (a *server) checkStore(*http.Request) (any, error) { return a.svc().CheckStore() }

// rotateKey makes a new session signing key current. Sessions keep
// working: their JWTs, signed with an older key, verify until they
// expire (the old keys stay in the store).
func (a *server) rotateKey(*http.Request) (any, error) {
	kid, err := a.svc().Store.RotateSigningKey(authstore.AdminActor)
	if err != nil {
		return nil, err
	}
	a.logger.Info("session signing key rotated", zap.String("key_id", kid))
	return api.RotateKeyResponse{KeyID: kid}, nil
}

// backup streams a consistent copy of the store file.
func (a *server) backup(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/octet-stream")
	if _, err := a.svc().Store.Backup(w); err != nil {
		// Past the first byte the status is sent; a failure before it
		// still answers properly.
		problem.Write(w, "", problem.From(err, problem.Admin))
	}
}
