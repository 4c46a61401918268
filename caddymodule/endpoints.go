package caddymodule

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/gate"
	"github.com/gatehouse/gatehouse/problem"
)

// Endpoints turns on Gatehouse's own endpoints on a site. Each endpoint
// has a name and a default path; Paths moves any of them.
type Endpoints struct {
	// Paths overrides default paths by endpoint name, e.g.
	// {"login": "/signin"}. Names: see the README's endpoint table.
	Paths map[string]string `json:"paths,omitempty"`

	exact  map[string]*endpoint
	prefix []*endpoint
}

// access is what an endpoint demands before its handler runs.
type access uint8

const (
	// accessNone: no credential needed; a session cookie that does not
	// verify, or another scheme than Bearer, is ignored (a stale cookie
	// must not lock anyone out of /login), an invalid Bearer token is not.
	accessNone access = iota
	// accessAny: any valid credential.
	accessAny
	// accessBrowser: a browser session only; a PAT is refused, so a leaked
	// PAT cannot mint or list PATs.
	accessBrowser
)

// accessRules are the access levels as the requirement a route rule
// would state, so one decision serves routes and endpoints.
var accessRules = [...]*config.CompiledRule{
	accessNone:    config.AccessRule(config.AccessAnonymous),
	accessAny:     config.AccessRule(config.AccessAuthenticated),
	accessBrowser: config.AccessRule(config.AccessSession),
}

// endpoint is one served endpoint.
type endpoint struct {
	name    string
	path    string // default path
	prefix  bool   // path is a prefix ("/api/pat/" + id)
	methods []string
	access  access
	// ownLimit: the endpoint applies its own rate limit instead of the
	// caller's tier budget (registration).
	ownLimit bool
	serve    func(h *Handler, w http.ResponseWriter, r *http.Request, id *Identity) error
}

// endpointTable is every endpoint Gatehouse serves: its name (the key in
// a site's `endpoints` block), default path, methods, what it demands of
// the caller, and the handler, which lives in the file of its concern.
func endpointTable() []*endpoint {
	return []*endpoint{
		{
			name: "login", path: api.PathLogin, methods: []string{http.MethodGet, http.MethodHead, http.MethodPost},
			access: accessNone, serve: (*Handler).serveLogin,
		},
		{
			name: "logout", path: api.PathLogout, methods: []string{http.MethodPost},
			access: accessNone, serve: (*Handler).serveLogout,
		},
		{
			name: "setup", path: api.PathSetup, methods: []string{http.MethodGet, http.MethodHead, http.MethodPost},
			access: accessNone, serve: (*Handler).serveSetup,
		},
		{
			name: "device", path: api.PathDevice, methods: []string{http.MethodGet, http.MethodHead, http.MethodPost},
			// The page checks the session itself, to send a browser without
			// one to the login page and back rather than answer 401.
			access: accessNone, serve: (*Handler).serveDevice,
		},
		{
			name: "device_code", path: api.PathDeviceCode, methods: []string{http.MethodPost},
			access: accessNone, serve: (*Handler).serveDeviceCode,
		},
		{
			name: "device_token", path: api.PathDeviceToken, methods: []string{http.MethodPost},
			access: accessNone, serve: (*Handler).serveDeviceToken,
		},
		{
			name: "session", path: api.PathSession, methods: []string{http.MethodPost},
			access: accessNone, serve: (*Handler).serveCLISession,
		},
		{
			name: "refresh", path: api.PathRefresh, methods: []string{http.MethodPost},
			access: accessNone, serve: (*Handler).serveRefresh,
		},
		{
			name: "pat", path: api.PathPAT, methods: []string{http.MethodGet, http.MethodHead, http.MethodPost},
			// The page checks the session itself, to send a browser without
			// one to the login page instead of answering 401.
			access: accessNone, serve: (*Handler).servePATPage,
		},
		{
			name: "pat_api", path: api.PathPATAPI, methods: []string{http.MethodGet, http.MethodHead, http.MethodPost},
			access: accessBrowser, serve: (*Handler).servePATAPI,
		},
		{
			name: "pat_api_token", path: api.PathPATAPIToken, prefix: true, methods: []string{http.MethodDelete},
			access: accessBrowser, serve: (*Handler).servePATAPIToken,
		},
		{
			name: "whoami", path: api.PathWhoami, methods: []string{http.MethodGet, http.MethodHead},
			access: accessAny, serve: (*Handler).serveWhoami,
		},
		{
			name: "revoke", path: api.PathRevoke, methods: []string{http.MethodPost},
			access: accessAny, serve: (*Handler).serveRevoke,
		},
		{
			name: "register", path: api.PathRegister, methods: []string{http.MethodPost},
			access: accessNone, ownLimit: true, serve: (*Handler).serveRegister,
		},
		{
			name: "register_revoke", path: api.PathRegisterRevoke, methods: []string{http.MethodPost},
			access: accessNone, ownLimit: true, serve: (*Handler).serveRegisterRevoke,
		},
	}
}

// endpointDefs indexes endpointTable by name. It is filled in init, not
// in its declaration, because the handlers it holds read it (Path).
var endpointDefs map[string]*endpoint

func init() {
	endpointDefs = map[string]*endpoint{}
	for _, e := range endpointTable() {
		if _, dup := endpointDefs[e.name]; dup {
			panic("gatehouse: endpoint listed twice: " + e.name)
		}
		endpointDefs[e.name] = e
	}
}

// EndpointNames lists the endpoints a site can serve, for docs and errors.
func EndpointNames() []string {
	names := make([]string, 0, len(endpointDefs))
	for n := range endpointDefs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Path returns where the named endpoint is served.
func (e *Endpoints) Path(name string) string {
	if p, ok := e.Paths[name]; ok {
		return p
	}
	if d, ok := endpointDefs[name]; ok {
		return d.path
	}
	return ""
}

func (e *Endpoints) provision() error {
	e.exact = map[string]*endpoint{}
	e.prefix = nil
	for name := range e.Paths {
		if _, ok := endpointDefs[name]; !ok {
			return fmt.Errorf("gatehouse endpoints: unknown endpoint %q (known: %s)", name, strings.Join(EndpointNames(), ", "))
		}
	}
	taken := map[string]string{}
	for _, name := range EndpointNames() {
		def := endpointDefs[name]
		p := e.Path(name)
		if !strings.HasPrefix(p, "/") || config.CleanPath(p) != p {
			return fmt.Errorf("gatehouse endpoints: %s path %q must be a clean absolute path", name, p)
		}
		key := strings.ToLower(p)
		if other, dup := taken[key]; dup {
			return fmt.Errorf("gatehouse endpoints: %s and %s both use %s", name, other, p)
		}
		taken[key] = name
		ep := *def
		ep.path = key
		if ep.prefix {
			e.prefix = append(e.prefix, &ep)
		} else {
			e.exact[key] = &ep
		}
	}
	return nil
}

// route returns the endpoint r addresses, or nil to let the request go
// through the rules to the upstream.
func (e *Endpoints) route(r *http.Request) *endpoint {
	p := strings.ToLower(config.CleanPath(r.URL.Path))
	if ep, ok := e.exact[p]; ok {
		return ep
	}
	for _, ep := range e.prefix {
		if strings.HasPrefix(p, ep.path) && len(p) > len(ep.path) {
			return ep
		}
	}
	return nil
}

// serveEndpoint applies what every endpoint shares: the method check, the
// endpoint's credential requirement, cross-origin protection for
// cookie-authenticated writes, and the rate limit.
func (h *Handler) serveEndpoint(w http.ResponseWriter, r *http.Request, ep *endpoint) error {
	if !slices.Contains(ep.methods, r.Method) {
		w.Header().Set("Allow", strings.Join(ep.methods, ", "))
		return h.refuse(w, r, &problem.Problem{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed",
			Message: fmt.Sprintf("%s does not accept %s", r.URL.Path, r.Method), Reason: "method_not_allowed"}, nil, -1)
	}
	limit := config.LimitTier
	if ep.ownLimit {
		limit = config.LimitNone
	}
	// An open endpoint is lenient: a stale cookie must not lock anyone
	// out of the login page, and an OAuth client may send HTTP Basic.
	id, d := h.app.gate.Admit(w, r, gate.Route{Rule: accessRules[ep.access], Endpoint: true,
		Lenient: ep.access == accessNone, Limit: limit})
	if d != nil {
		return h.refuse(w, r, d, id, -1)
	}
	return ep.serve(h, w, r, id)
}
