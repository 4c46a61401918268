package endpoints

import (
	"net/http"

	"github.com/gatehouse/gatehouse/decision"
	"github.com/gatehouse/gatehouse/internal/reqbody"
	"github.com/gatehouse/gatehouse/problem"
)

// serveCLISession answers POST /api/session: a CLI logs in with login,
// password and, when the account has it, totp (JSON or form), and gets a
// short access JWT and a refresh token. Same backoff and same single
// failure message as the login form.
func (s *Site) serveCLISession(w http.ResponseWriter, r *http.Request, id *decision.Identity) error {
	params, d := reqbody.Params(r)
	if d != nil {
		return s.refuse(w, r, d, id)
	}
	tokens, err := s.svc().CLILogin(r.Context(), params.Get("login"), params.Get("password"), params.Get("totp"), s.facts.ClientIP(r), r.UserAgent())
	if err != nil {
		return s.refuse(w, r, problem.From(err, problem.API), id)
	}
	problem.WriteJSON(w, http.StatusOK, tokens)
	return nil
}

// serveRefresh answers POST /api/refresh: refresh_token (and optionally
// grant_type=refresh_token) in, a new access JWT and the rotated refresh
// token out. Two refreshes of one token within the grace window get the
// same answer; a refresh token used again later ends the whole session.
func (s *Site) serveRefresh(w http.ResponseWriter, r *http.Request, id *decision.Identity) error {
	params, d := reqbody.Params(r)
	if d != nil {
		return s.refuse(w, r, d, id)
	}
	tokens, err := s.svc().Refresh(params.Get("grant_type"), params.Get("refresh_token"), s.facts.ClientIP(r))
	if err != nil {
		return s.refuse(w, r, problem.From(err, problem.API), id)
	}
	problem.WriteJSON(w, http.StatusOK, tokens)
	return nil
}
