package caddymodule

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/problem"
)

// adminPrefix is where the admin API lives on Caddy's admin endpoint.
const adminPrefix = api.AdminPrefix

// adminHandler serves the operations behind `caddy gatehouse …`. The same
// handler serves the running server's admin API and, in process, the
// commands that open the store directly when no server runs, so both
// paths validate and answer alike.
func (a *App) adminHandler() http.Handler { return a.admin }

func (a *App) newAdminMux() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern string, f func(http.ResponseWriter, *http.Request) error) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if err := f(w, r); err != nil {
				writeAdminError(w, err)
			}
		})
	}
	route("GET /gatehouse/status", a.adminStatus)
	route("GET /gatehouse/users", a.adminListUsers)
	route("POST /gatehouse/users", a.adminCreateUser)
	route("POST /gatehouse/users/{login}/disable", a.adminSetDisabled(true))
	route("POST /gatehouse/users/{login}/enable", a.adminSetDisabled(false))
	route("POST /gatehouse/users/{login}/tier", a.adminSetTier)
	route("GET /gatehouse/tokens", a.adminListTokens)
	route("POST /gatehouse/tokens", a.adminCreateToken)
	route("DELETE /gatehouse/tokens/{id}", a.adminRevokeToken)
	route("GET /gatehouse/audit", a.adminAudit)
	// POST, not GET: the backup holds password hashes, TOTP seeds and
	// session signing keys, and must not be one SSRF'd GET away.
	route("POST /gatehouse/store/backup", a.adminBackup)
	route("GET /gatehouse/store/check", a.adminCheck)
	for _, extra := range adminRoutes {
		route(extra.pattern, extra.handler(a))
	}
	return mux
}

// adminRoutes are admin operations registered by the files that own them
// (sessions, memberships).
var adminRoutes []adminRoute

type adminRoute struct {
	pattern string
	handler func(a *App) func(http.ResponseWriter, *http.Request) error
}

func writeAdminError(w http.ResponseWriter, err error) {
	status, code := http.StatusInternalServerError, "server_error"
	var ae requestError
	switch {
	case errors.As(err, &ae):
		status, code = ae.status, "invalid_request"
	case errors.Is(err, authstore.ErrInvalidName):
		status, code = http.StatusBadRequest, "invalid_request"
	case errors.Is(err, authstore.ErrNotFound):
		status, code = http.StatusNotFound, "not_found"
	case errors.Is(err, authstore.ErrExists):
		status, code = http.StatusConflict, "conflict"
	case errors.Is(err, authstore.ErrUserDisabled):
		status, code = http.StatusConflict, "user_disabled"
	}
	// The admin API is the operator's: the message is the error itself,
	// which names what failed and never holds a secret.
	problem.WriteJSON(w, status, api.Error{Error: code, Message: err.Error()})
}

// decodeBody reads an admin request's JSON body (see decodeJSON) into v.
func decodeBody(r *http.Request, v any) error {
	if d := decodeJSON(r, v); d != nil {
		return requestError{status: d.Status, err: errors.New(d.Message)}
	}
	return nil
}

func (a *App) adminStatus(w http.ResponseWriter, _ *http.Request) error {
	st, err := a.store.Stats()
	if err != nil {
		return err
	}
	problem.WriteJSON(w, http.StatusOK, api.Status{
		Store: a.store.Path(), Users: st.Users, Tokens: st.Tokens,
		TokenPrefix: a.policy.TokenPrefix, Scopes: a.policy.Scopes, Tiers: sortedNames(a.policy.Tiers),
	})
	return nil
}

// viewUser is a user as the admin API shows it: no password hash, no
// TOTP seed.
func (a *App) viewUser(u *authstore.User) api.UserInfo {
	return api.UserInfo{
		ID: u.ID, Login: u.Login, Kind: u.Kind, Tier: u.Tier, Scopes: a.userScopes(u),
		AllScopes: u.Scopes == nil, Disabled: u.Disabled, Password: u.PasswordHash != "",
		TOTP: u.TOTPSecret != "", Memberships: u.Memberships, Created: u.CreatedAt,
	}
}

func (a *App) adminListUsers(w http.ResponseWriter, _ *http.Request) error {
	users, err := a.store.Users()
	if err != nil {
		return err
	}
	out := make([]api.UserInfo, 0, len(users))
	for _, u := range users {
		out = append(out, a.viewUser(u))
	}
	problem.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *App) adminCreateUser(w http.ResponseWriter, r *http.Request) error {
	var req api.CreateUserRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if _, err := authstore.NormalizeLogin(req.Login); err != nil {
		return badInput("%v", err)
	}
	tier := req.Tier
	if tier == "" {
		tier = a.policy.DefaultTier
	}
	if err := a.policy.CheckTier(tier); err != nil {
		return badInput("%v", err)
	}
	if req.Scopes != nil {
		if err := a.policy.CheckScopes(req.Scopes); err != nil {
			return badInput("%v", err)
		}
	}
	u, err := a.store.CreateUser(authstore.NewUser{Login: req.Login, Tier: tier, Scopes: req.Scopes}, authstore.AdminActor)
	if err != nil {
		return err
	}
	a.logger.Info("user created", zap.String("user", u.Login), zap.String("tier", u.Tier))
	problem.WriteJSON(w, http.StatusCreated, a.viewUser(u))
	return nil
}

func (a *App) adminSetDisabled(disabled bool) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		detail := "enabled"
		if disabled {
			detail = "disabled"
		}
		u, err := a.store.UpdateUser(r.PathValue("login"), authstore.AdminActor, detail, func(u *authstore.User) error {
			u.Disabled = disabled
			return nil
		})
		if err != nil {
			return err
		}
		a.logger.Info("user "+detail, zap.String("user", u.Login))
		problem.WriteJSON(w, http.StatusOK, a.viewUser(u))
		return nil
	}
}

func (a *App) adminSetTier(w http.ResponseWriter, r *http.Request) error {
	var req api.SetTierRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if err := a.policy.CheckTier(req.Tier); err != nil {
		return badInput("%v", err)
	}
	u, err := a.store.UpdateUser(r.PathValue("login"), authstore.AdminActor, "tier "+req.Tier, func(u *authstore.User) error {
		u.Tier = req.Tier
		return nil
	})
	if err != nil {
		return err
	}
	problem.WriteJSON(w, http.StatusOK, a.viewUser(u))
	return nil
}

// viewToken is what the API, pages and CLI show of a token: never the
// token itself. Names are checked when stored; sanitising here too covers
// tokens stored before that check.
func viewToken(p *authstore.PAT, login string, now time.Time) api.TokenInfo {
	v := api.TokenInfo{
		ID: p.ID, User: login, Name: authstore.SanitizeText(p.Name, 4*authstore.MaxTokenNameLen), Hint: p.Hint, Scopes: p.Scopes,
		Resources: p.ResourceCaps, AllResources: p.ResourceCaps == nil,
		Created: p.CreatedAt, LastUsedIP: p.LastUsedIP, CreatedVia: p.CreatedVia, Status: p.Status(now),
	}
	if !p.ExpiresAt.IsZero() {
		v.Expires = &p.ExpiresAt
	}
	if !p.LastUsedAt.IsZero() {
		v.LastUsed = &p.LastUsedAt
	}
	return v
}

func (a *App) adminListTokens(w http.ResponseWriter, r *http.Request) error {
	a.store.FlushTouches()
	userID, err := a.queryUser(r)
	if err != nil {
		return err
	}
	pats, err := a.store.PATs(userID)
	if err != nil {
		return err
	}
	out := make([]api.TokenInfo, 0, len(pats))
	now := time.Now()
	for _, p := range pats {
		out = append(out, viewToken(p, a.loginOf(p.UserID), now))
	}
	problem.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *App) adminCreateToken(w http.ResponseWriter, r *http.Request) error {
	var req api.CreateTokenRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	u, err := a.store.UserByLogin(req.User)
	if err != nil {
		return err
	}
	tok, p, err := a.mintPAT(u, patRequest{
		Name: req.Name, Scopes: req.Scopes, ExpiresDays: req.ExpiresDays, NoExpiry: req.NoExpiry,
		Resources: req.Resources, Via: authstore.ViaAdmin,
	}, authstore.AdminActor)
	if err != nil {
		return err
	}
	problem.WriteJSON(w, http.StatusCreated, api.CreateTokenResponse{Token: tok, Info: viewToken(p, u.Login, time.Now())})
	return nil
}

func (a *App) adminRevokeToken(w http.ResponseWriter, r *http.Request) error {
	p, err := a.store.RevokePAT(r.PathValue("id"), authstore.AdminActor)
	if err != nil {
		return err
	}
	a.logger.Info("token revoked", zap.String("token_id", p.ID), zap.String("by", "admin"))
	problem.WriteJSON(w, http.StatusOK, viewToken(p, a.loginOf(p.UserID), time.Now()))
	return nil
}

func (a *App) adminAudit(w http.ResponseWriter, r *http.Request) error {
	userID, err := a.queryUser(r)
	if err != nil {
		return err
	}
	limit := 100
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return badInput("limit %q: want a positive number", s)
		}
		limit = n
	}
	events, err := a.store.Audit(userID, limit)
	if err != nil {
		return err
	}
	out := make([]api.AuditEvent, 0, len(events))
	for _, e := range events {
		out = append(out, viewEvent(e))
	}
	problem.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *App) adminBackup(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "application/octet-stream")
	_, err := a.store.Backup(w)
	return err
}

func (a *App) adminCheck(w http.ResponseWriter, _ *http.Request) error {
	problems, err := a.store.Check()
	if err != nil {
		return err
	}
	if problems == nil {
		problems = []string{}
	}
	problem.WriteJSON(w, http.StatusOK, api.StoreCheck{Store: a.store.Path(), Problems: problems})
	return nil
}

// viewEvent is an audit record as the admin API shows it.
func viewEvent(e authstore.Event) api.AuditEvent {
	return api.AuditEvent{
		Seq: e.Seq, Time: e.Time, Action: e.Action,
		Actor:  api.AuditActor{Kind: e.Actor.Kind, UserID: e.Actor.UserID, IP: e.Actor.IP},
		UserID: e.UserID, TokenID: e.TokenID, Detail: e.Detail,
	}
}

// queryUser resolves an admin listing's optional ?user=<login> filter to
// a user id; "" means every user.
func (a *App) queryUser(r *http.Request) (string, error) {
	login := r.URL.Query().Get("user")
	if login == "" {
		return "", nil
	}
	u, err := a.store.UserByLogin(login)
	if err != nil {
		return "", err
	}
	return u.ID, nil
}

// loginOf is the login of user id for listings ("" if it is gone); the
// user cache makes repeated owners cheap.
func (a *App) loginOf(id string) string {
	if u, err := a.store.User(id); err == nil {
		return u.Login
	}
	return ""
}

func sortedNames(m map[string]config.Tier) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
