// Package adminapi is the admin REST API behind `caddy gatehouse …`: plain
// Go over package service, served on Caddy's admin endpoint by the
// adapter and in process by the offline commands.
package adminapi

import (
	"net/http"
	"strconv"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/internal/reqbody"
	"github.com/gatehouse/gatehouse/problem"
	"github.com/gatehouse/gatehouse/service"
)

// Config is what the admin API works with.
type Config struct {
	// Service returns the shared operations over the open store. It is
	// called per request: the adapter opens the store after the handler
	// is built.
	Service func() *service.Service
	// Logger gets a line per key rotation; nil logs nothing.
	Logger *zap.Logger
}

// server is the admin API over one Config.
type server struct {
	svc    func() *service.Service
	logger *zap.Logger
}

// New returns the admin API: the operations behind `caddy gatehouse …`,
// under api.AdminPrefix. The same handler serves the running server's
// admin endpoint and, in process, the commands that open the store
// directly when no server runs, so both paths validate and answer alike.
func New(c Config) http.Handler {
	a := &server{svc: c.Service, logger: c.Logger}
	if a.logger == nil {
		a.logger = zap.NewNop()
	}
	return a.routes()
}

// routes is the admin API's route table: every route, in one place.
func (a *server) routes() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern string, f func(http.ResponseWriter, *http.Request) error) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if err := f(w, r); err != nil {
				writeError(w, err)
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
	route("POST /gatehouse/store/rotate-key/assertion", a.adminRotateAssertionKey)
	route("GET /gatehouse/keys", a.adminListKeys)
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

// writeError answers a failed admin operation (problem.From, the Admin
// surface: the message is the error itself).
func writeError(w http.ResponseWriter, err error) {
	problem.Write(w, "", problem.From(err, problem.Admin))
}

// decode reads an admin request's JSON body (reqbody.DecodeJSON) into v;
// the error is the *problem.Problem that says what is wrong.
func decode(r *http.Request, v any) error {
	if d := reqbody.DecodeJSON(r, v); d != nil {
		return d
	}
	return nil
}

func (a *server) adminStatus(w http.ResponseWriter, _ *http.Request) error {
	st, err := a.svc().Status()
	if err != nil {
		return err
	}
	problem.WriteJSON(w, http.StatusOK, st)
	return nil
}

func (a *server) adminListUsers(w http.ResponseWriter, _ *http.Request) error {
	out, err := a.svc().Users()
	if err != nil {
		return err
	}
	problem.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *server) adminCreateUser(w http.ResponseWriter, r *http.Request) error {
	var req api.CreateUserRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	u, err := a.svc().CreateUser(req, authstore.AdminActor)
	if err != nil {
		return err
	}
	problem.WriteJSON(w, http.StatusCreated, u)
	return nil
}

func (a *server) adminSetDisabled(disabled bool) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		u, err := a.svc().SetDisabled(r.PathValue("login"), disabled, authstore.AdminActor)
		if err != nil {
			return err
		}
		problem.WriteJSON(w, http.StatusOK, u)
		return nil
	}
}

func (a *server) adminSetTier(w http.ResponseWriter, r *http.Request) error {
	var req api.SetTierRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	u, err := a.svc().SetTier(r.PathValue("login"), req.Tier, authstore.AdminActor)
	if err != nil {
		return err
	}
	problem.WriteJSON(w, http.StatusOK, u)
	return nil
}

func (a *server) adminListTokens(w http.ResponseWriter, r *http.Request) error {
	out, err := a.svc().Tokens(r.URL.Query().Get("user"))
	if err != nil {
		return err
	}
	problem.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *server) adminCreateToken(w http.ResponseWriter, r *http.Request) error {
	var req api.CreateTokenRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	created, err := a.svc().CreateToken(req)
	if err != nil {
		return err
	}
	problem.WriteJSON(w, http.StatusCreated, created)
	return nil
}

func (a *server) adminRevokeToken(w http.ResponseWriter, r *http.Request) error {
	info, err := a.svc().RevokeToken(r.PathValue("id"))
	if err != nil {
		return err
	}
	problem.WriteJSON(w, http.StatusOK, info)
	return nil
}

func (a *server) adminAudit(w http.ResponseWriter, r *http.Request) error {
	limit := 100
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return problem.Errorf(problem.KindInvalid, "limit %q: want a positive number", s)
		}
		limit = n
	}
	out, err := a.svc().Audit(r.URL.Query().Get("user"), limit)
	if err != nil {
		return err
	}
	problem.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *server) adminBackup(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "application/octet-stream")
	_, err := a.svc().Store.Backup(w)
	return err
}

func (a *server) adminCheck(w http.ResponseWriter, _ *http.Request) error {
	out, err := a.svc().CheckStore()
	if err != nil {
		return err
	}
	problem.WriteJSON(w, http.StatusOK, out)
	return nil
}
