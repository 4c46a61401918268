package endpoints

import (
	"net/http"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/decision"
	"github.com/gatehouse/gatehouse/internal/reqbody"
	"github.com/gatehouse/gatehouse/problem"
)

// serveRevoke answers POST /api/auth/revoke (RFC 7009 style;
// service.RevokeByCaller). A PAT revokes itself: with no parameters, or
// naming itself by `token` or `token_id`. A session revokes one of its
// user's PATs by `token_id` or `token`.
func (s *Site) serveRevoke(w http.ResponseWriter, r *http.Request, id *decision.Identity) error {
	params, d := reqbody.Params(r)
	if d != nil {
		return s.refuse(w, r, d, id)
	}
	p, err := s.svc().RevokeByCaller(s.caller(r, id), params.Get("token_id"), params.Get("token"))
	if err != nil {
		return s.refuse(w, r, problem.From(err, problem.Bearer), id)
	}
	problem.WriteJSON(w, http.StatusOK, api.RevokeResponse{Revoked: true, TokenID: p.ID})
	return nil
}
