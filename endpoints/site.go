// Package endpoints is Gatehouse's own HTTP surface on a site: the
// browser pages (login, setup, device approval, PATs) and the JSON and
// OAuth endpoints (device flow, CLI sessions, PAT API, whoami, revoke,
// agent registration), as one http.Handler over package service. Each
// endpoint has a name and a default path, listed once in endpointTable;
// a site may move any of them.
package endpoints

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/decision"
	"github.com/gatehouse/gatehouse/gate"
	"github.com/gatehouse/gatehouse/idp"
	"github.com/gatehouse/gatehouse/problem"
	"github.com/gatehouse/gatehouse/service"
)

// Facts are what the host knows about a request beyond gate.Facts.
type Facts interface {
	gate.Facts
	// ExternalBase is scheme://host as the client addressed the site
	// (through a trusted proxy), for links it must follow.
	ExternalBase(r *http.Request) string
}

// Metrics receives what the endpoints count.
type Metrics interface {
	// Decision counts an answered request: nil allowed, else the denial.
	Decision(d *problem.Problem)
	// DeviceFlow counts a device grant event (issued, approved, denied,
	// expired, denied_polled, token_issued).
	DeviceFlow(event string)
	// IdentityLogin counts a sign-in through an identity provider by
	// provider and outcome ("success" or an idp Reason).
	IdentityLogin(provider, outcome string)
}

// Config is what a Site is built from.
type Config struct {
	// Paths moves endpoints by name, e.g. {"login": "/signin"}.
	Paths map[string]string
	// Off names endpoints the site does not serve (`console off`).
	Off    []string
	Policy *config.Policy
	Gate   *gate.Gate
	Facts  Facts
	// Service returns the shared operations over the open store. It is
	// called per request: the host opens the store after building the
	// Site.
	Service func() *service.Service
	// Registration is the per-IP limit of agent registration; nil when
	// registration is not configured.
	Registration *gate.Budget
	Metrics      Metrics
	// Logger gets the denials and the account events; nil logs nothing.
	Logger *zap.Logger
	// PasskeyRPID and PasskeyOrigins name the passkeys' relying party
	// outright, for a site whose address behind a proxy is not what its
	// browsers see; empty: the site's address (Facts.ExternalBase).
	PasskeyRPID    string
	PasskeyOrigins []string
	// IdentityProviders are the providers people may sign in with, in
	// the order of their buttons.
	IdentityProviders []*idp.Provider
	// Flows seals the providers' flow cookies; shared across config
	// generations, so a reload does not break a sign-in under way. Nil
	// makes one for this Site.
	Flows *idp.Flows
	// ForwardAuth turns on forward-auth mode (PathForwardAuth); nil
	// answers it 404.
	ForwardAuth *ForwardAuth
	// Scanner is the per-IP limit of leaked-credential reports; nil
	// leaves them unlimited.
	Scanner *gate.Budget
}

// Site serves Gatehouse's endpoints on one site. It is an http.Handler;
// Serves says whether a request is for it at all, so that the host sends
// everything else through the site's rules to the upstream.
type Site struct {
	policy       *config.Policy
	gate         *gate.Gate
	facts        Facts
	svc          func() *service.Service
	registration *gate.Budget
	metrics      Metrics
	logger       *zap.Logger
	forward      *ForwardAuth
	scanner      *gate.Budget

	paths map[string]string // by endpoint name, as configured
	off   []string
	// ceremonies are the passkey challenges in flight.
	ceremonies     service.Ceremonies
	passkeyRPID    string
	passkeyOrigins []string
	exact          map[string]*endpoint
	prefix         []*endpoint // prefix and tree endpoints

	providers    map[string]*idp.Provider // by name
	providerList []*idp.Provider          // in button order
	flows        *idp.Flows
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
	// accessAdmin: a browser session of an administrator (the console).
	accessAdmin
)

// accessRules are the access levels as the requirement a route rule
// would state, so one decision serves routes and endpoints.
var accessRules = [...]*config.CompiledRule{
	accessNone:    config.AccessRule(config.AccessAnonymous),
	accessAny:     config.AccessRule(config.AccessAuthenticated),
	accessBrowser: config.AccessRule(config.AccessSession),
	accessAdmin:   config.AdminRule(),
}

// endpoint is one served endpoint.
type endpoint struct {
	name   string
	path   string // default path
	prefix bool   // path is a prefix ("/api/pat/" + id)
	// tree: the path and everything under it (/gatehouse/admin/…).
	tree bool
	// page: a browser page; a GET without a session is sent to sign in,
	// and a refusal is a page, not JSON.
	page    bool
	methods []string
	access  access
	// ownLimit: the endpoint applies its own rate limit instead of the
	// caller's tier budget (registration).
	ownLimit bool
	// ownAdmission: the handler admits the request itself, against
	// another rule than the endpoint's (forward-auth judges the original
	// request by the site's rules); access is not applied.
	ownAdmission bool
	serve        func(s *Site, w http.ResponseWriter, r *http.Request, id *decision.Identity) error
}

// endpointTable is every endpoint Gatehouse serves: its name (the key in
// a site's `endpoints` block), default path, methods, what it demands of
// the caller, and the handler, which lives in the file of its concern.
func endpointTable() []*endpoint {
	return []*endpoint{
		{
			name: "login", path: api.PathLogin, methods: []string{http.MethodGet, http.MethodHead, http.MethodPost},
			access: accessNone, serve: (*Site).serveLogin,
		},
		{
			name: "login_provider", path: api.PathLoginProvider, prefix: true, methods: []string{http.MethodGet, http.MethodHead},
			access: accessNone, serve: (*Site).serveLoginProvider,
		},
		{
			name: "logout", path: api.PathLogout, methods: []string{http.MethodPost},
			access: accessNone, serve: (*Site).serveLogout,
		},
		{
			name: "setup", path: api.PathSetup, methods: []string{http.MethodGet, http.MethodHead, http.MethodPost},
			access: accessNone, serve: (*Site).serveSetup,
		},
		{
			name: "device", path: api.PathDevice, methods: []string{http.MethodGet, http.MethodHead, http.MethodPost},
			// The page checks the session itself, to send a browser without
			// one to the login page and back rather than answer 401.
			access: accessNone, serve: (*Site).serveDevice,
		},
		{
			name: "device_code", path: api.PathDeviceCode, methods: []string{http.MethodPost},
			access: accessNone, serve: (*Site).serveDeviceCode,
		},
		{
			name: "device_token", path: api.PathDeviceToken, methods: []string{http.MethodPost},
			access: accessNone, serve: (*Site).serveDeviceToken,
		},
		{
			name: "session", path: api.PathSession, methods: []string{http.MethodPost},
			access: accessNone, serve: (*Site).serveCLISession,
		},
		{
			name: "refresh", path: api.PathRefresh, methods: []string{http.MethodPost},
			access: accessNone, serve: (*Site).serveRefresh,
		},
		{
			name: "pat", path: api.PathPAT, methods: []string{http.MethodGet, http.MethodHead, http.MethodPost},
			// The page checks the session itself, to send a browser without
			// one to the login page instead of answering 401.
			access: accessNone, serve: (*Site).servePATPage,
		},
		{
			name: "pat_api", path: api.PathPATAPI, methods: []string{http.MethodGet, http.MethodHead, http.MethodPost},
			access: accessBrowser, serve: (*Site).servePATAPI,
		},
		{
			name: "pat_api_token", path: api.PathPATAPIToken, prefix: true, methods: []string{http.MethodDelete},
			access: accessBrowser, serve: (*Site).servePATAPIToken,
		},
		{
			name: "whoami", path: api.PathWhoami, methods: []string{http.MethodGet, http.MethodHead},
			access: accessAny, serve: (*Site).serveWhoami,
		},
		{
			name: "revoke", path: api.PathRevoke, methods: []string{http.MethodPost},
			access: accessAny, serve: (*Site).serveRevoke,
		},
		{
			name: "account", path: api.PathAccount, methods: []string{http.MethodGet, http.MethodHead, http.MethodPost},
			access: accessBrowser, page: true, serve: (*Site).serveAccount,
		},
		{
			name: "account_sessions", path: api.PathAccountSessions, methods: []string{http.MethodGet, http.MethodHead, http.MethodPost},
			access: accessBrowser, page: true, serve: (*Site).serveAccountSessions,
		},
		{
			name: "passkeys", path: api.PathPasskeys, methods: []string{http.MethodPost},
			access: accessBrowser, serve: (*Site).servePasskeys,
		},
		{
			name: "passkey_login", path: api.PathPasskeyLogin, methods: []string{http.MethodPost},
			access: accessNone, serve: (*Site).servePasskeyLogin,
		},
		{
			name: "set_password", path: api.PathSetPassword, methods: []string{http.MethodGet, http.MethodHead, http.MethodPost},
			access: accessNone, serve: (*Site).serveSetPassword,
		},
		{
			name: "console", path: api.PathConsole, tree: true, methods: []string{http.MethodGet, http.MethodHead, http.MethodPost},
			access: accessAdmin, page: true, serve: (*Site).serveConsole,
		},
		{
			name: "register", path: api.PathRegister, methods: []string{http.MethodPost},
			access: accessNone, ownLimit: true, serve: (*Site).serveRegister,
		},
		{
			// Any method: Traefik and nginx send the original one, Caddy GET.
			name: "forward_auth", path: api.PathForwardAuth, methods: nil,
			ownAdmission: true, serve: (*Site).serveForwardAuth,
		},
		{
			name: "credentials_revoke", path: api.PathCredentialsRevoke, methods: []string{http.MethodPost},
			access: accessNone, ownLimit: true, serve: (*Site).serveCredentialsRevoke,
		},
		{
			name: "jwks", path: api.PathJWKS, methods: []string{http.MethodGet, http.MethodHead},
			access: accessNone, serve: (*Site).serveJWKS,
		},
		{
			name: "register_revoke", path: api.PathRegisterRevoke, methods: []string{http.MethodPost},
			access: accessNone, ownLimit: true, serve: (*Site).serveRegisterRevoke,
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

// Names lists the endpoints a site can serve, for docs and errors.
func Names() []string {
	names := make([]string, 0, len(endpointDefs))
	for n := range endpointDefs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Known reports whether name is an endpoint's name.
func Known(name string) bool {
	_, ok := endpointDefs[name]
	return ok
}

// New builds the Site, checking the configured paths: known names,
// clean absolute paths, a trailing slash on a prefix (pat_api_token), no
// two endpoints on one path.
func New(c Config) (*Site, error) {
	s := &Site{
		policy: c.Policy, gate: c.Gate, facts: c.Facts, svc: c.Service, registration: c.Registration,
		metrics: c.Metrics, logger: c.Logger, paths: c.Paths, off: c.Off, forward: c.ForwardAuth, scanner: c.Scanner,
		passkeyRPID: c.PasskeyRPID, passkeyOrigins: c.PasskeyOrigins,
		exact: map[string]*endpoint{}, providers: map[string]*idp.Provider{},
		providerList: c.IdentityProviders, flows: c.Flows,
	}
	if s.flows == nil {
		s.flows = idp.NewFlows()
	}
	for _, p := range c.IdentityProviders {
		s.providers[p.Name()] = p
	}
	if s.logger == nil {
		s.logger = zap.NewNop()
	}
	if s.metrics == nil {
		s.metrics = noMetrics{}
	}
	for name := range c.Paths {
		if !Known(name) {
			return nil, fmt.Errorf("gatehouse endpoints: unknown endpoint %q (known: %s)", name, strings.Join(Names(), ", "))
		}
	}
	for _, name := range c.Off {
		if !Known(name) {
			return nil, fmt.Errorf("gatehouse endpoints: unknown endpoint %q (known: %s)", name, strings.Join(Names(), ", "))
		}
	}
	taken := map[string]string{}
	for _, name := range Names() {
		if slices.Contains(c.Off, name) {
			continue
		}
		p := s.Path(name)
		if !strings.HasPrefix(p, "/") || config.CleanPath(p) != p {
			return nil, fmt.Errorf("gatehouse endpoints: %s path %q must be a clean absolute path", name, p)
		}
		if endpointDefs[name].prefix && !strings.HasSuffix(p, "/") {
			// The id is what follows the path: without the slash,
			// /api/tokens/tok_1 would be the id "/tok_1".
			return nil, fmt.Errorf("gatehouse endpoints: %s path %q must end in /, as %s does", name, p, endpointDefs[name].path)
		}
		key := strings.ToLower(p)
		if other, dup := taken[key]; dup {
			return nil, fmt.Errorf("gatehouse endpoints: %s and %s both use %s", name, other, p)
		}
		taken[key] = name
		ep := *endpointDefs[name]
		if ep.name == "forward_auth" && c.ForwardAuth == nil {
			// Off: the path is the upstream's like any other.
			continue
		}
		ep.path = key
		if ep.prefix || ep.tree {
			s.prefix = append(s.prefix, &ep)
		} else {
			s.exact[key] = &ep
		}
	}
	return s, nil
}

// Path returns where the named endpoint is served; "" when it is off.
func (s *Site) Path(name string) string {
	if slices.Contains(s.off, name) {
		return ""
	}
	if p, ok := s.paths[name]; ok {
		return p
	}
	if d, ok := endpointDefs[name]; ok {
		return d.path
	}
	return ""
}

// route returns the endpoint r addresses, or nil.
func (s *Site) route(r *http.Request) *endpoint {
	p := strings.ToLower(config.CleanPath(r.URL.Path))
	if ep, ok := s.exact[p]; ok {
		return ep
	}
	for _, ep := range s.prefix {
		if ep.tree && (p == ep.path || strings.HasPrefix(p, ep.path+"/")) {
			return ep
		}
		if !ep.tree && strings.HasPrefix(p, ep.path) && len(p) > len(ep.path) {
			return ep
		}
	}
	return nil
}

// Serves reports whether r addresses one of the site's endpoints; any
// other request is the host's to pass through the rules.
func (s *Site) Serves(r *http.Request) bool { return s.route(r) != nil }

// ServeHTTP applies what every endpoint shares: the method check, the
// endpoint's credential requirement, cross-origin protection for
// cookie-authenticated writes, and the rate limit; then the endpoint's
// handler. A request for no endpoint is a 404.
func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ep := s.route(r)
	if ep == nil {
		s.refuse(w, r, problem.New(http.StatusNotFound, "not_found", "not_found", "no such endpoint"), nil)
		return
	}
	if ep.methods != nil && !slices.Contains(ep.methods, r.Method) {
		w.Header().Set("Allow", strings.Join(ep.methods, ", "))
		s.refuse(w, r, &problem.Problem{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed",
			Message: fmt.Sprintf("%s does not accept %s", r.URL.Path, r.Method), Reason: "method_not_allowed"}, nil)
		return
	}
	if ep.ownAdmission {
		if err := ep.serve(s, w, r, nil); err != nil {
			s.logger.Error("serving "+ep.name, zap.Error(err))
			s.refuse(w, r, problem.Internal(), nil)
		}
		return
	}
	limit := config.LimitTier
	if ep.ownLimit {
		limit = config.LimitNone
	}
	// An open endpoint is lenient: a stale cookie must not lock anyone
	// out of the login page, and an OAuth client may send HTTP Basic.
	id, d := s.gate.Admit(w, r, gate.Route{Rule: accessRules[ep.access], Endpoint: true,
		Lenient: ep.access == accessNone, Limit: limit})
	if d != nil && ep.page {
		s.refusePage(w, r, d, id)
		return
	}
	if d != nil {
		s.refuse(w, r, d, id)
		return
	}
	if err := ep.serve(s, w, r, id); err != nil {
		s.logger.Error("serving "+ep.name, zap.Error(err))
		s.refuse(w, r, problem.Internal(), id)
	}
}

// refuse answers a denial: gate.Refuse charges a 401 to the client IP's
// anonymous budget (a 429 once that is spent), then the denial gets its
// log line and its count. Every refusal of an endpoint comes here, or to
// denied when a page shows it in its own words.
func (s *Site) refuse(w http.ResponseWriter, r *http.Request, d *problem.Problem, id *decision.Identity) error {
	d = s.gate.Refuse(w, r, d)
	s.denied(r, d, id)
	problem.Write(w, s.policy.Realm, d)
	return nil
}

// refusePage is refuse for a browser page: a GET without a (valid)
// session is sent to sign in and come back; any other refusal (a
// non-administrator on the console, a PAT, a cross-origin form) is
// charged, logged and counted as refuse does, and shown as a page with
// the refusal's status.
func (s *Site) refusePage(w http.ResponseWriter, r *http.Request, d *problem.Problem, id *decision.Identity) {
	if d.Status == http.StatusUnauthorized && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		if gate.HasSessionCookie(r) {
			http.SetCookie(w, s.gate.ExpiredCookie(r))
		}
		_ = redirect(w, r, s.loginURL(r.URL.RequestURI()))
		return
	}
	d = s.gate.Refuse(w, r, d)
	s.denied(r, d, id)
	for k, v := range d.Headers {
		w.Header()[k] = v
	}
	text := "common.refused"
	switch d.Reason {
	case "admin_required":
		text = "console.forbidden"
	case "session_required":
		text = "common.session_required"
	case "cross_origin":
		text = "common.cross_origin"
	case "rate_limited":
		text = "common.rate_limited"
	}
	// A refused request has no browser identity to show in the header.
	if err := s.render(w, r, nil, page{status: d.Status, name: "message", title: "common.refused_title",
		data: messageData{Message: text, Link: s.Path("login"), LinkText: "setup.sign_in"}}); err != nil {
		problem.Write(w, s.policy.Realm, d)
	}
}

// denied logs and counts a denial that a page answers itself.
func (s *Site) denied(r *http.Request, d *problem.Problem, id *decision.Identity) {
	gate.LogDenial(s.logger, r, d, id, s.facts.ClientIP(r))
	s.metrics.Decision(d)
}

type noMetrics struct{}

func (noMetrics) Decision(*problem.Problem)    {}
func (noMetrics) DeviceFlow(string)            {}
func (noMetrics) IdentityLogin(string, string) {}
