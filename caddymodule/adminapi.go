package caddymodule

import (
	"net/http"
	"strconv"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/problem"
)

// adminPrefix is where the admin API lives on Caddy's admin endpoint.
const adminPrefix = api.AdminPrefix

// adminHandler serves the operations behind `caddy gatehouse …`. The same
// handler serves the running server's admin API and, in process, the
// commands that open the store directly when no server runs, so both
// paths validate and answer alike.
func (a *App) adminHandler() http.Handler { return a.admin }

// newAdminMux is the admin API's route table: every route, in one place.
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
	route("POST /gatehouse/store/rotate-key", a.adminRotateKey)
	route("GET /gatehouse/members", a.adminListMembers)
	route("PUT /gatehouse/members", a.adminSetMember)
	route("DELETE /gatehouse/members", a.adminRemoveMember)
	route("POST /gatehouse/users/{login}/password", a.adminSetPassword)
	route("POST /gatehouse/users/{login}/totp", a.adminEnableTOTP)
	route("DELETE /gatehouse/users/{login}/totp", a.adminDisableTOTP)
	route("GET /gatehouse/sessions", a.adminListSessions)
	route("DELETE /gatehouse/sessions/{id}", a.adminRevokeSession)
	route("DELETE /gatehouse/users/{login}/sessions", a.adminRevokeUserSessions)
	return mux
}

// writeAdminError answers a failed admin operation (problem.From, the
// Admin surface: the message is the error itself).
func writeAdminError(w http.ResponseWriter, err error) {
	problem.Write(w, "", problem.From(err, problem.Admin))
}

// decodeBody reads an admin request's JSON body (see decodeJSON) into v;
// the error is the *problem.Problem that says what is wrong.
func decodeBody(r *http.Request, v any) error {
	if d := decodeJSON(r, v); d != nil {
		return d
	}
	return nil
}

func (a *App) adminStatus(w http.ResponseWriter, _ *http.Request) error {
	st, err := a.svc.Status()
	if err != nil {
		return err
	}
	problem.WriteJSON(w, http.StatusOK, st)
	return nil
}

func (a *App) adminListUsers(w http.ResponseWriter, _ *http.Request) error {
	out, err := a.svc.Users()
	if err != nil {
		return err
	}
	problem.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *App) adminCreateUser(w http.ResponseWriter, r *http.Request) error {
	var req api.CreateUserRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	u, err := a.svc.CreateUser(req, authstore.AdminActor)
	if err != nil {
		return err
	}
	problem.WriteJSON(w, http.StatusCreated, u)
	return nil
}

func (a *App) adminSetDisabled(disabled bool) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		u, err := a.svc.SetDisabled(r.PathValue("login"), disabled, authstore.AdminActor)
		if err != nil {
			return err
		}
		problem.WriteJSON(w, http.StatusOK, u)
		return nil
	}
}

func (a *App) adminSetTier(w http.ResponseWriter, r *http.Request) error {
	var req api.SetTierRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	u, err := a.svc.SetTier(r.PathValue("login"), req.Tier, authstore.AdminActor)
	if err != nil {
		return err
	}
	problem.WriteJSON(w, http.StatusOK, u)
	return nil
}

func (a *App) adminListTokens(w http.ResponseWriter, r *http.Request) error {
	out, err := a.svc.Tokens(r.URL.Query().Get("user"))
	if err != nil {
		return err
	}
	problem.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *App) adminCreateToken(w http.ResponseWriter, r *http.Request) error {
	var req api.CreateTokenRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	created, err := a.svc.CreateToken(req)
	if err != nil {
		return err
	}
	problem.WriteJSON(w, http.StatusCreated, created)
	return nil
}

func (a *App) adminRevokeToken(w http.ResponseWriter, r *http.Request) error {
	info, err := a.svc.RevokeToken(r.PathValue("id"))
	if err != nil {
		return err
	}
	problem.WriteJSON(w, http.StatusOK, info)
	return nil
}

func (a *App) adminAudit(w http.ResponseWriter, r *http.Request) error {
	limit := 100
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return problem.Errorf(problem.KindInvalid, "limit %q: want a positive number", s)
		}
		limit = n
	}
	out, err := a.svc.Audit(r.URL.Query().Get("user"), limit)
	if err != nil {
		return err
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
	out, err := a.svc.CheckStore()
	if err != nil {
		return err
	}
	problem.WriteJSON(w, http.StatusOK, out)
	return nil
}
