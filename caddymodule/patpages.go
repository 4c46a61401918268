package caddymodule

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/authstore"
)

func init() {
	registerEndpoint(&endpoint{
		name: "pat", path: "/pat", methods: []string{http.MethodGet, http.MethodHead, http.MethodPost},
		// The page checks the session itself, to send a browser without
		// one to the login page instead of answering 401.
		access: accessNone, serve: (*Handler).servePATPage,
	})
	registerMessages("en", map[string]string{
		"pat.title":          "Personal access tokens",
		"pat.yours":          "Your tokens",
		"pat.none":           "You have no tokens yet.",
		"pat.col_name":       "Name",
		"pat.col_token":      "Token",
		"pat.col_scopes":     "Scopes",
		"pat.col_created":    "Created",
		"pat.col_expires":    "Expires",
		"pat.col_last_used":  "Last used",
		"pat.col_status":     "Status",
		"pat.never":          "Never",
		"pat.never_used":     "Never",
		"pat.status_active":  "Active",
		"pat.status_expired": "Expired",
		"pat.status_revoked": "Revoked",
		"pat.revoke":         "Revoke",
		"pat.create_title":   "Create a token",
		"pat.name":           "Name",
		"pat.expires_days":   "Expires in days (1 to %d)",
		"pat.scopes":         "Scopes",
		"pat.scopes_hint":    "A token can never do more than your account can.",
		"pat.create":         "Create token",
		"pat.new_title":      "New token: %s",
		"pat.new_once":       "Copy it now: it will not be shown again.",
		"pat.copy":           "Copy",
		"pat.copied":         "Copied",
		"pat.revoked":        "Token revoked.",
		"pat.err_name":       "Give the token a name of 1 to 100 characters, without control or formatting characters.",
		"pat.err_expires":    "Choose an expiry of 1 to %d days.",
		"pat.err_scopes":     "Choose at least one scope.",
		"pat.err_create":     "The token could not be created.",
		"pat.err_revoke":     "The token could not be revoked.",
		"pat.err_action":     "Unknown action.",
		"pat.resources":      "Resources",
		"pat.resources_all":  "Every resource, at my role on it (follows my memberships)",
		"pat.resources_some": "Only the resources below, at most at the role chosen",
		"pat.resource_none":  "no access",
		"pat.role_held":      "your role: %s",
		"pat.err_resources":  "Choose at least one resource, or every resource.",
	})
	registerMessages("zh", map[string]string{
		"pat.title":          "个人访问令牌",
		"pat.yours":          "您的令牌",
		"pat.none":           "您还没有任何令牌。",
		"pat.col_name":       "名称",
		"pat.col_token":      "令牌",
		"pat.col_scopes":     "权限范围",
		"pat.col_created":    "创建时间",
		"pat.col_expires":    "过期时间",
		"pat.col_last_used":  "最近使用",
		"pat.col_status":     "状态",
		"pat.never":          "永不过期",
		"pat.never_used":     "从未使用",
		"pat.status_active":  "有效",
		"pat.status_expired": "已过期",
		"pat.status_revoked": "已撤销",
		"pat.revoke":         "撤销",
		"pat.create_title":   "创建令牌",
		"pat.name":           "名称",
		"pat.expires_days":   "有效天数（1 至 %d 天）",
		"pat.scopes":         "权限范围",
		"pat.scopes_hint":    "令牌的权限永远不会超过您账户本身的权限。",
		"pat.create":         "创建令牌",
		"pat.new_title":      "新令牌：%s",
		"pat.new_once":       "请立即复制：此令牌不会再次显示。",
		"pat.copy":           "复制",
		"pat.copied":         "已复制",
		"pat.revoked":        "令牌已撤销。",
		"pat.err_name":       "请为令牌填写 1 至 100 个字符的名称，不得包含控制字符或格式字符。",
		"pat.err_expires":    "请选择 1 至 %d 天的有效期。",
		"pat.err_scopes":     "请至少选择一个权限范围。",
		"pat.err_create":     "无法创建令牌。",
		"pat.err_revoke":     "无法撤销令牌。",
		"pat.err_action":     "未知操作。",
		"pat.resources":      "资源",
		"pat.resources_all":  "所有资源，按我在其上的角色（随我的成员身份变化）",
		"pat.resources_some": "仅限以下资源，且不超过所选角色",
		"pat.resource_none":  "无权限",
		"pat.role_held":      "您的角色：%s",
		"pat.err_resources":  "请至少选择一个资源，或选择所有资源。",
	})
}

// defaultPATDays is the expiry the create form suggests.
const defaultPATDays = 90

// patPageData is the PAT page's Data.
type patPageData struct {
	tokenForm
	Tokens []tokenView
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
			return h.refuse(w, r, unauthenticated(), id, -1)
		}
		return h.refuse(w, r, forbidden("session_required", "this endpoint requires a browser session token"), id, -1)
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
			return h.renderPATs(w, r, id, d.status, data)
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
		return h.refuse(w, r, internalError(), id, -1)
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
		data.Error, data.ErrorDetail = msg("pat.err_create"), d.message
		return h.renderPATs(w, r, id, d.status, data)
	}
	fresh := h.patForm(id)
	fresh.NewToken, fresh.NewTokenName = tok, p.Name
	return h.renderPATs(w, r, id, http.StatusCreated, fresh)
}

// userTokens lists u's tokens, newest first, with last-used stamps
// flushed so the page shows the latest use.
func (a *App) userTokens(u *authstore.User) ([]tokenView, error) {
	a.store.FlushTouches()
	pats, err := a.store.PATs(u.ID)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	out := make([]tokenView, 0, len(pats))
	for i := len(pats) - 1; i >= 0; i-- {
		out = append(out, viewToken(pats[i], u.Login, now))
	}
	return out, nil
}

// revokeOwnPAT revokes one of the caller's own tokens; another user's
// token is reported as missing, so ids cannot be probed.
func (h *Handler) revokeOwnPAT(r *http.Request, id *Identity, tokID string) (*authstore.PAT, *denial) {
	notFound := &denial{status: http.StatusNotFound, code: "not_found", message: "no such token", reason: "revoke_unknown"}
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
		return nil, internalError()
	}
	h.logger.Info("token revoked", zap.String("token_id", tokID), zap.String("user", id.User.Login), zap.String("by", "user"))
	return p, nil
}

// mintDenial turns a mintPAT error into a 4xx with the operator-grade
// message (which never holds a secret), or a 500.
func mintDenial(err error) *denial {
	var ae requestError
	if errors.As(err, &ae) && ae.status < 500 {
		return &denial{status: ae.status, code: "invalid_request", message: ae.Error(), reason: "pat_invalid"}
	}
	if errors.Is(err, authstore.ErrInvalidName) { // the store's own check
		return &denial{status: http.StatusBadRequest, code: "invalid_request", message: err.Error(), reason: "pat_invalid"}
	}
	if errors.Is(err, authstore.ErrUserDisabled) {
		return &denial{status: http.StatusConflict, code: "user_disabled", message: "user disabled", reason: "user_disabled"}
	}
	return internalError()
}
