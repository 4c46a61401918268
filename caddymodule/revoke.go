package caddymodule

import (
	"net/http"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/problem"
)

func init() {
	registerEndpoint(&endpoint{
		name: "revoke", path: api.PathRevoke, methods: []string{http.MethodPost},
		access: accessAny, serve: (*Handler).serveRevoke,
	})
}

// serveRevoke answers POST /api/auth/revoke (RFC 7009 style). A PAT
// revokes itself: with no parameters, or naming itself by `token` or
// `token_id`. A session revokes one of its user's PATs by `token_id` or
// `token`.
func (h *Handler) serveRevoke(w http.ResponseWriter, r *http.Request, id *Identity) error {
	params, d := readParams(r)
	if d != nil {
		return h.refuse(w, r, d, id, -1)
	}
	target := params.Get("token_id")
	if tok := params.Get("token"); tok != "" {
		p, err := h.app.lookupPlaintext(tok)
		if err != nil {
			return h.refuse(w, r, &problem.Problem{Status: http.StatusNotFound, Code: "not_found", Message: "no such token", Reason: "revoke_unknown"}, id, -1)
		}
		if target != "" && target != p.ID {
			return h.refuse(w, r, problem.BadAuthorization("revoke_mismatch", "token and token_id name different tokens"), id, -1)
		}
		target = p.ID
	}
	if id.PAT != nil {
		if target != "" && target != id.PAT.ID {
			return h.refuse(w, r, problem.Forbidden("revoke_other", "a token can revoke only itself; use a browser session to revoke others"), id, -1)
		}
		target = id.PAT.ID
	}
	if target == "" {
		return h.refuse(w, r, problem.BadAuthorization("revoke_missing", "name the token to revoke with token_id or token"), id, -1)
	}
	p, err := h.app.store.PAT(target)
	if err != nil || p.UserID != id.User.ID {
		// Another user's token is reported like a missing one, so ids
		// cannot be probed.
		return h.refuse(w, r, &problem.Problem{Status: http.StatusNotFound, Code: "not_found", Message: "no such token", Reason: "revoke_unknown"}, id, -1)
	}
	actor := authstore.Actor{Kind: "user", UserID: id.User.ID, IP: clientIP(r)}
	if id.PAT != nil {
		actor.Kind = "token"
	}
	if _, err := h.app.store.RevokePAT(target, actor); err != nil {
		h.logger.Error("revoking token", zap.String("token_id", target), zap.Error(err))
		return h.refuse(w, r, problem.Internal(), id, -1)
	}
	h.logger.Info("token revoked", zap.String("token_id", target), zap.String("user", id.User.Login), zap.String("by", actor.Kind))
	problem.WriteJSON(w, http.StatusOK, api.RevokeResponse{Revoked: true, TokenID: target})
	return nil
}

// lookupPlaintext finds the record of a plaintext token, whatever its state.
func (a *App) lookupPlaintext(tok string) (*authstore.PAT, error) {
	if err := authstore.CheckToken(a.policy.TokenPrefix, tok); err != nil {
		return nil, err
	}
	return a.store.PATByToken(tok)
}
