package caddymodule

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
)

// adminPrefix is where the admin API lives on Caddy's admin endpoint.
const adminPrefix = "/gatehouse/"

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
	status := http.StatusInternalServerError
	var ae requestError
	switch {
	case errors.As(err, &ae):
		status = ae.status
	case errors.Is(err, authstore.ErrInvalidName):
		status = http.StatusBadRequest
	case errors.Is(err, authstore.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, authstore.ErrExists):
		status = http.StatusConflict
	case errors.Is(err, authstore.ErrUserDisabled):
		status = http.StatusConflict
	}
	writeJSON(w, status, map[string]string{"error": err.Error()})
}

// decodeBody reads an admin request's JSON body (see decodeJSON) into v.
func decodeBody(r *http.Request, v any) error {
	if d := decodeJSON(r, v); d != nil {
		return requestError{status: d.status, err: errors.New(d.message)}
	}
	return nil
}

type statusView struct {
	Store       string   `json:"store"`
	Users       int      `json:"users"`
	Tokens      int      `json:"tokens"`
	TokenPrefix string   `json:"token_prefix"`
	Scopes      []string `json:"scopes"`
	Tiers       []string `json:"tiers"`
}

func (a *App) adminStatus(w http.ResponseWriter, _ *http.Request) error {
	st, err := a.store.Stats()
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, statusView{
		Store: a.store.Path(), Users: st.Users, Tokens: st.Tokens,
		TokenPrefix: a.policy.TokenPrefix, Scopes: a.policy.Scopes, Tiers: sortedNames(a.policy.Tiers),
	})
	return nil
}

// userView is a user as the admin API shows it: no password hash, no TOTP
// seed.
type userView struct {
	ID          string            `json:"id"`
	Login       string            `json:"login"`
	Kind        string            `json:"kind"`
	Tier        string            `json:"tier"`
	Scopes      []string          `json:"scopes"`
	AllScopes   bool              `json:"all_scopes"`
	Disabled    bool              `json:"disabled"`
	Password    bool              `json:"password"`
	TOTP        bool              `json:"totp"`
	Memberships map[string]string `json:"memberships,omitempty"`
	Created     time.Time         `json:"created"`
}

func (a *App) viewUser(u *authstore.User) userView {
	return userView{
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
	out := make([]userView, 0, len(users))
	for _, u := range users {
		out = append(out, a.viewUser(u))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type createUserRequest struct {
	Login string `json:"login"`
	Tier  string `json:"tier,omitempty"`
	// Scopes limits what the user may hold; nil means every scope.
	Scopes []string `json:"scopes,omitempty"`
}

func (a *App) adminCreateUser(w http.ResponseWriter, r *http.Request) error {
	var req createUserRequest
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
	writeJSON(w, http.StatusCreated, a.viewUser(u))
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
		writeJSON(w, http.StatusOK, a.viewUser(u))
		return nil
	}
}

func (a *App) adminSetTier(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Tier string `json:"tier"`
	}
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
	writeJSON(w, http.StatusOK, a.viewUser(u))
	return nil
}

// tokenView is a PAT as listings show it: never the token itself.
type tokenView struct {
	ID           string            `json:"id"`
	User         string            `json:"user"`
	Name         string            `json:"name"`
	Hint         string            `json:"hint"`
	Scopes       []string          `json:"scopes"`
	Resources    map[string]string `json:"resources,omitempty"`
	AllResources bool              `json:"all_resources"`
	Created      time.Time         `json:"created"`
	Expires      *time.Time        `json:"expires"`
	LastUsed     *time.Time        `json:"last_used"`
	LastUsedIP   string            `json:"last_used_ip,omitempty"`
	CreatedVia   string            `json:"created_via"`
	Status       string            `json:"status"`
}

// viewToken is what the API, pages and CLI show of a token. Names are
// checked when stored; sanitising here too covers tokens stored before
// that check.
func viewToken(p *authstore.PAT, login string, now time.Time) tokenView {
	v := tokenView{
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
	out := make([]tokenView, 0, len(pats))
	now := time.Now()
	for _, p := range pats {
		out = append(out, viewToken(p, a.loginOf(p.UserID), now))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type createTokenRequest struct {
	User        string   `json:"user"`
	Name        string   `json:"name"`
	Scopes      []string `json:"scopes"`
	ExpiresDays int      `json:"expires_days"`
	NoExpiry    bool     `json:"no_expiry,omitempty"`
	// Resources caps the token per resource ("project:atlas" -> "read");
	// nil means every resource at the owner's membership role.
	Resources map[string]string `json:"resources,omitempty"`
}

type createTokenResponse struct {
	Token string    `json:"token"`
	Info  tokenView `json:"info"`
}

func (a *App) adminCreateToken(w http.ResponseWriter, r *http.Request) error {
	var req createTokenRequest
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
	writeJSON(w, http.StatusCreated, createTokenResponse{Token: tok, Info: viewToken(p, u.Login, time.Now())})
	return nil
}

func (a *App) adminRevokeToken(w http.ResponseWriter, r *http.Request) error {
	p, err := a.store.RevokePAT(r.PathValue("id"), authstore.AdminActor)
	if err != nil {
		return err
	}
	a.logger.Info("token revoked", zap.String("token_id", p.ID), zap.String("by", "admin"))
	writeJSON(w, http.StatusOK, viewToken(p, a.loginOf(p.UserID), time.Now()))
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
	if events == nil {
		events = []authstore.Event{}
	}
	writeJSON(w, http.StatusOK, events)
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
	writeJSON(w, http.StatusOK, map[string]any{"store": a.store.Path(), "problems": problems})
	return nil
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
