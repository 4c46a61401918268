package endpoints

import (
	"net/http"
	"net/url"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/decision"
	"github.com/gatehouse/gatehouse/internal/reqbody"
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
func (s *Site) servePATPage(w http.ResponseWriter, r *http.Request, id *decision.Identity) error {
	if !id.Browser {
		if id.User == nil && r.Method != http.MethodPost {
			return redirect(w, r, s.loginURL(r.URL.RequestURI()))
		}
		if id.User == nil {
			return s.refuse(w, r, problem.Unauthenticated(), id)
		}
		return s.refuse(w, r, problem.Forbidden("session_required", "this endpoint requires a browser session token"), id)
	}
	if r.Method != http.MethodPost {
		data := s.patForm(id)
		if r.URL.Query().Get("done") == "revoked" {
			data.Notice = msg("pat.revoked")
		}
		return s.renderPATs(w, r, id, http.StatusOK, data)
	}
	params, d := reqbody.Params(r)
	if d != nil {
		return s.refuse(w, r, d, id)
	}
	switch params.Get("action") {
	case "create":
		return s.createFromPage(w, r, id, params)
	case "revoke":
		tokID := params.Get("token_id")
		if _, err := s.svc().RevokeOwnPAT(s.caller(r, id), tokID); err != nil {
			d := problem.From(err, problem.API)
			data := s.patForm(id)
			data.Error = msg("pat.err_revoke")
			s.denied(r, d, id)
			return s.renderPATs(w, r, id, d.Status, data)
		}
		// Post/redirect/get: a reload does not post the form again.
		return redirect(w, r, s.Path("pat")+"?done=revoked")
	}
	data := s.patForm(id)
	data.Error = msg("pat.err_action")
	return s.renderPATs(w, r, id, http.StatusBadRequest, data)
}

// patForm is the page with the create form at its defaults: every scope
// the user holds ticked, 90 days (or the maximum, if lower).
func (s *Site) patForm(id *decision.Identity) *patPageData {
	return &patPageData{tokenForm: s.newTokenForm(id, "name", func(string) bool { return true }, 0)}
}

func (s *Site) renderPATs(w http.ResponseWriter, r *http.Request, id *decision.Identity, status int, data *patPageData) error {
	tokens, err := s.svc().UserTokens(id.User)
	if err != nil {
		s.logger.Error("listing tokens", zap.String("user", id.User.Login), zap.Error(err))
		return s.refuse(w, r, problem.Internal(), id)
	}
	data.Tokens = tokens
	return s.render(w, r, id, page{status: status, name: "pat", title: "pat.title", data: data})
}

// createFromPage creates a token from the form (see tokenForm.read).
func (s *Site) createFromPage(w http.ResponseWriter, r *http.Request, id *decision.Identity, params url.Values) error {
	data := s.patForm(id)
	req, bad := data.read(params)
	if bad == nil {
		if err := s.svc().SelfServiceCaps(id.User, req.Resources); err != nil {
			bad, data.ErrorDetail = msg("pat.err_create"), err.Error()
		}
	}
	if bad != nil {
		data.Error = bad
		return s.renderPATs(w, r, id, http.StatusBadRequest, data)
	}
	req.Via = authstore.ViaWeb
	tok, p, err := s.svc().MintPAT(id.User, req, s.caller(r, id).Actor())
	if err != nil {
		d := problem.From(err, problem.API)
		s.denied(r, d, id)
		data.Error, data.ErrorDetail = msg("pat.err_create"), d.Message
		return s.renderPATs(w, r, id, d.Status, data)
	}
	fresh := s.patForm(id)
	fresh.NewToken, fresh.NewTokenName = tok, p.Name
	return s.renderPATs(w, r, id, http.StatusCreated, fresh)
}
