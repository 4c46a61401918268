// Package adminapi is the admin REST API behind `caddy gatehouse …`: plain
// Go over package service, served on Caddy's admin endpoint by the
// adapter and in process by the offline commands.
package adminapi

import (
	"fmt"
	"net/http"

	"go.uber.org/zap"

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

// operation is one admin route's work: its answer, written as JSON, or
// the error problem.From turns into one.
type operation func(r *http.Request) (any, error)

// routes is the admin API's route table: every route, in one place, with
// the status of its success.
func (a *server) routes() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern string, status int, op operation) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			out, err := op(r)
			if err != nil {
				problem.Write(w, "", problem.From(err, problem.Admin))
				return
			}
			problem.WriteJSON(w, status, out)
		})
	}
	ok, created := http.StatusOK, http.StatusCreated
	route("GET /gatehouse/status", ok, a.status)
	route("GET /gatehouse/users", ok, a.users)
	route("POST /gatehouse/users", created, withBody(a.createUser))
	route("POST /gatehouse/users/{login}/disable", ok, a.setDisabled(true))
	route("POST /gatehouse/users/{login}/enable", ok, a.setDisabled(false))
	route("POST /gatehouse/users/{login}/tier", ok, withBody(a.setTier))
	route("POST /gatehouse/users/{login}/admin", ok, withBody(a.setAdmin))
	route("POST /gatehouse/users/{login}/password", ok, withBody(a.setPassword))
	route("POST /gatehouse/users/{login}/totp", ok, a.enableTOTP)
	route("DELETE /gatehouse/users/{login}/totp", ok, a.disableTOTP)
	route("DELETE /gatehouse/users/{login}/sessions", ok, a.revokeUserSessions)
	route("GET /gatehouse/tokens", ok, a.tokens)
	route("POST /gatehouse/tokens", created, withBody(a.createToken))
	route("DELETE /gatehouse/tokens/{id}", ok, a.revokeToken)
	route("GET /gatehouse/sessions", ok, a.sessions)
	route("DELETE /gatehouse/sessions/{id}", ok, a.revokeSession)
	route("GET /gatehouse/members", ok, a.members)
	route("PUT /gatehouse/members", ok, withBody(a.setMember))
	route("DELETE /gatehouse/members", ok, withBody(a.removeMember))
	route("GET /gatehouse/identities", ok, a.identities)
	route("PUT /gatehouse/identities", ok, withBody(a.linkIdentity))
	route("DELETE /gatehouse/identities", ok, withBody(a.unlinkIdentity))
	route("GET /gatehouse/audit", ok, a.audit)
	route("GET /gatehouse/store/check", ok, a.checkStore)
	route("POST /gatehouse/store/rotate-key", ok, a.rotateKey)
	route("POST /gatehouse/store/rotate-key/assertion", ok, a.rotateAssertionKey)
	route("GET /gatehouse/keys", ok, a.assertionKeys)
	// POST, not GET: the backup holds password hashes, TOTP seeds and
	// session signing keys, and must not be one SSRF'd GET away. It is a
	// stream, not a JSON answer.
	mux.HandleFunc("POST /gatehouse/store/backup", a.backup)
	return unmatched{mux}
}

// unmatched answers a request no route takes as every admin error is
// answered, with the JSON body, where ServeMux would write plain text: a
// 404, or a 405 with the methods the path takes.
type unmatched struct{ mux *http.ServeMux }

func (u unmatched) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, pattern := u.mux.Handler(r)
	if pattern != "" {
		u.mux.ServeHTTP(w, r) // which sets the path values h reads
		return
	}
	probe := &statusOnly{header: http.Header{}}
	h.ServeHTTP(probe, r)
	if allow := probe.header.Get("Allow"); allow != "" {
		w.Header().Set("Allow", allow)
	}
	status, code := http.StatusNotFound, "not_found"
	if probe.status == http.StatusMethodNotAllowed {
		status, code = http.StatusMethodNotAllowed, "method_not_allowed"
	}
	problem.Write(w, "", problem.New(status, code, code, fmt.Sprintf("no admin route %s %s", r.Method, r.URL.Path)))
}

// statusOnly keeps what ServeMux's own answer to an unmatched request
// says (status, Allow) and drops its plain-text body.
type statusOnly struct {
	header http.Header
	status int
}

func (s *statusOnly) Header() http.Header         { return s.header }
func (s *statusOnly) Write(b []byte) (int, error) { return len(b), nil }
func (s *statusOnly) WriteHeader(status int)      { s.status = status }

// withBody is an operation on a JSON request body of type T
// (reqbody.DecodeJSON: a body that does not decode is refused, with what
// is wrong, before op runs).
func withBody[T any](op func(r *http.Request, req T) (any, error)) operation {
	return func(r *http.Request) (any, error) {
		var req T
		if d := reqbody.DecodeJSON(r, &req); d != nil {
			return nil, d
		}
		return op(r, req)
	}
}
