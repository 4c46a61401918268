package caddymodule

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/problem"
)

func init() {
	registerEndpoint(&endpoint{
		name: "pat", path: api.PathPAT, methods: []string{http.MethodGet, http.MethodHead, http.MethodPost},
		// The page checks the session itself, to send a browser without
		// one to the login page instead of answering 401.
		access: accessNone, serve: (*Handler).servePATPage,
	})
}

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
		if _, d := h.revokeOwnPAT(r, id, tokID); d != nil {
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
	tokens, err := h.app.userTokens(id.User)
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
	req, problem := data.read(params)
	if problem == nil {
		if err := h.app.selfServiceCaps(id.User, req.Resources); err != nil {
			problem, data.ErrorDetail = msg("pat.err_create"), err.Error()
		}
	}
	if problem != nil {
		data.Error = problem
		return h.renderPATs(w, r, id, http.StatusBadRequest, data)
	}
	req.Via = authstore.ViaWeb
	tok, p, err := h.app.mintPAT(id.User, req, authstore.Actor{Kind: "user", UserID: id.User.ID, IP: clientIP(r)})
	if err != nil {
		d := mintDenial(err)
		logDenial(h.logger, r, d, id, -1)
		data.Error, data.ErrorDetail = msg("pat.err_create"), d.Message
		return h.renderPATs(w, r, id, d.Status, data)
	}
	fresh := h.patForm(id)
	fresh.NewToken, fresh.NewTokenName = tok, p.Name
	return h.renderPATs(w, r, id, http.StatusCreated, fresh)
}

// userTokens lists u's tokens, newest first, with last-used stamps
// flushed so the page shows the latest use.
func (a *App) userTokens(u *authstore.User) ([]api.TokenInfo, error) {
	a.store.FlushTouches()
	pats, err := a.store.PATs(u.ID)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	out := make([]api.TokenInfo, 0, len(pats))
	for i := len(pats) - 1; i >= 0; i-- {
		out = append(out, viewToken(pats[i], u.Login, now))
	}
	return out, nil
}

// revokeOwnPAT revokes one of the caller's own tokens; another user's
// token is reported as missing, so ids cannot be probed.
func (h *Handler) revokeOwnPAT(r *http.Request, id *Identity, tokID string) (*authstore.PAT, *problem.Problem) {
	notFound := &problem.Problem{Status: http.StatusNotFound, Code: "not_found", Message: "no such token", Reason: "revoke_unknown"}
	if tokID == "" || len(tokID) > 64 {
		return nil, notFound
	}
	p, err := h.app.store.PAT(tokID)
	if err != nil || p.UserID != id.User.ID {
		return nil, notFound
	}
	p, err = h.app.store.RevokePAT(tokID, authstore.Actor{Kind: "user", UserID: id.User.ID, IP: clientIP(r)})
	if err != nil {
		h.logger.Error("revoking token", zap.String("token_id", tokID), zap.Error(err))
		return nil, problem.Internal()
	}
	h.logger.Info("token revoked", zap.String("token_id", tokID), zap.String("user", id.User.Login), zap.String("by", "user"))
	return p, nil
}

// mintDenial turns a mintPAT error into a 4xx with the operator-grade
// message (which never holds a secret), or a 500.
func mintDenial(err error) *problem.Problem {
	var ae requestError
	if errors.As(err, &ae) && ae.status < 500 {
		return &problem.Problem{Status: ae.status, Code: "invalid_request", Message: ae.Error(), Reason: "pat_invalid"}
	}
	if errors.Is(err, authstore.ErrInvalidName) { // the store's own check
		return &problem.Problem{Status: http.StatusBadRequest, Code: "invalid_request", Message: err.Error(), Reason: "pat_invalid"}
	}
	if errors.Is(err, authstore.ErrUserDisabled) {
		return &problem.Problem{Status: http.StatusConflict, Code: "user_disabled", Message: "user disabled", Reason: "user_disabled"}
	}
	return problem.Internal()
}
