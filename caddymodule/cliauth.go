package caddymodule

import (
	"net/http"

	"github.com/gatehouse/gatehouse/problem"
)

// serveCLISession answers POST /api/session: a CLI logs in with login,
// password and, when the account has it, totp (JSON or form), and gets a
// short access JWT and a refresh token. Same backoff and same single
// failure message as the login form.
func (h *Handler) serveCLISession(w http.ResponseWriter, r *http.Request, id *Identity) error {
	params, d := readParams(r)
	if d != nil {
		return h.refuse(w, r, d, id, -1)
	}
	tokens, err := h.app.svc.CLILogin(r.Context(), params.Get("login"), params.Get("password"), params.Get("totp"), clientIP(r), r.UserAgent())
	if err != nil {
		return h.refuse(w, r, problem.From(err, problem.API), id, -1)
	}
	problem.WriteJSON(w, http.StatusOK, tokens)
	return nil
}

// serveRefresh answers POST /api/refresh: refresh_token (and optionally
// grant_type=refresh_token) in, a new access JWT and the rotated refresh
// token out. Two refreshes of one token within the grace window get the
// same answer; a refresh token used again later ends the whole session.
func (h *Handler) serveRefresh(w http.ResponseWriter, r *http.Request, id *Identity) error {
	params, d := readParams(r)
	if d != nil {
		return h.refuse(w, r, d, id, -1)
	}
	tokens, err := h.app.svc.Refresh(params.Get("grant_type"), params.Get("refresh_token"), clientIP(r))
	if err != nil {
		return h.refuse(w, r, problem.From(err, problem.API), id, -1)
	}
	problem.WriteJSON(w, http.StatusOK, tokens)
	return nil
}
