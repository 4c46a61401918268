package caddymodule

import (
	"net/http"
	"net/url"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/problem"
)

// defaultPATDays is the expiry the create form suggests.
const defaultPATDays = 90

// patPageData is the PAT page's Data.
type patPageData struct {
	tokenForm
	Tokens []api.TokenInfo
	// NewToken is the plaintext of a token just created: in this one
	// response and nowhere else.
	NewToken     string
	NewTokenName string
	Notice       *message
	Error        *message
	ErrorDetail  string
}

// servePATPage shows the signed-in user's tokens and the create form
// (GET) and creates or revokes a token (POST, action=create|revoke). A
// browser without a session is sent to log in; any other credential is
// refused, as on /api/pat, so a leaked PAT cannot mint more.
func (h *Handler) servePATPage(w http.ResponseWriter, r *http.Request, id *Identity) error {
	if !id.Browser {
		if id.User == nil && r.Method != http.MethodPost {
			return redirect(w, r, h.loginURL(r.URL.RequestURI()))
		}
		if id.User == nil {
			return h.refuse(w, r, problem.Unauthenticated(), id, -1)
		}
		return h.refuse(w, r, problem.Forbidden("session_required", "this endpoint requires a browser session token"), id, -1)
	}
	if r.Method != http.MethodPost {
		data := h.patForm(id)
		if r.URL.Query().Get("done") == "revoked" {
			data.Notice = msg("pat.revoked")
		}
		return h.renderPATs(w, r, id, http.StatusOK, data)
	}
	params, d := readParams(r)
	if d != nil {
		return h.refuse(w, r, d, id, -1)
	}
	switch params.Get("action") {
	case "create":
		return h.createFromPage(w, r, id, params)
	case "revoke":
		tokID := params.Get("token_id")
		if _, err := h.app.svc.RevokeOwnPAT(caller(r, id), tokID); err != nil {
			d := problem.From(err, problem.API)
			data := h.patForm(id)
			data.Error = msg("pat.err_revoke")
			logDenial(h.logger, r, d, id, -1)
			return h.renderPATs(w, r, id, d.Status, data)
		}
		// Post/redirect/get: a reload does not post the form again.
		return redirect(w, r, h.Endpoints.Path("pat")+"?done=revoked")
	}
	data := h.patForm(id)
	data.Error = msg("pat.err_action")
	return h.renderPATs(w, r, id, http.StatusBadRequest, data)
}

// patForm is the page with the create form at its defaults: every scope
// the user holds ticked, 90 days (or the maximum, if lower).
func (h *Handler) patForm(id *Identity) *patPageData {
	return &patPageData{tokenForm: h.newTokenForm(id, "name", func(string) bool { return true }, 0)}
}

func (h *Handler) renderPATs(w http.ResponseWriter, r *http.Request, id *Identity, status int, data *patPageData) error {
	tokens, err := h.app.svc.UserTokens(id.User)
	if err != nil {
		h.logger.Error("listing tokens", zap.String("user", id.User.Login), zap.Error(err))
		return h.refuse(w, r, problem.Internal(), id, -1)
	}
	data.Tokens = tokens
	return h.render(w, r, id, page{status: status, name: "pat", title: "pat.title", data: data})
}

// createFromPage creates a token from the form (see tokenForm.read).
func (h *Handler) createFromPage(w http.ResponseWriter, r *http.Request, id *Identity, params url.Values) error {
	data := h.patForm(id)
	req, bad := data.read(params)
	if bad == nil {
		if err := h.app.svc.SelfServiceCaps(id.User, req.Resources); err != nil {
			bad, data.ErrorDetail = msg("pat.err_create"), err.Error()
		}
	}
	if bad != nil {
		data.Error = bad
		return h.renderPATs(w, r, id, http.StatusBadRequest, data)
	}
	req.Via = authstore.ViaWeb
	tok, p, err := h.app.svc.MintPAT(id.User, req, caller(r, id).Actor())
	if err != nil {
		d := problem.From(err, problem.API)
		logDenial(h.logger, r, d, id, -1)
		data.Error, data.ErrorDetail = msg("pat.err_create"), d.Message
		return h.renderPATs(w, r, id, d.Status, data)
	}
	fresh := h.patForm(id)
	fresh.NewToken, fresh.NewTokenName = tok, p.Name
	return h.renderPATs(w, r, id, http.StatusCreated, fresh)
}
