package caddymodule

import (
	"net/http"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/problem"
)

// serveRevoke answers POST /api/auth/revoke (RFC 7009 style;
// service.RevokeByCaller). A PAT revokes itself: with no parameters, or
// naming itself by `token` or `token_id`. A session revokes one of its
// user's PATs by `token_id` or `token`.
func (h *Handler) serveRevoke(w http.ResponseWriter, r *http.Request, id *Identity) error {
	params, d := readParams(r)
	if d != nil {
		return h.refuse(w, r, d, id, -1)
	}
	p, err := h.app.svc.RevokeByCaller(caller(r, id), params.Get("token_id"), params.Get("token"))
	if err != nil {
		return h.refuse(w, r, problem.From(err, problem.Bearer), id, -1)
	}
	problem.WriteJSON(w, http.StatusOK, api.RevokeResponse{Revoked: true, TokenID: p.ID})
	return nil
}
