package caddymodule

import (
	"fmt"
	"net/http"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/assertion"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/endpoints"
	"github.com/gatehouse/gatehouse/gate"
	"github.com/gatehouse/gatehouse/problem"
	"github.com/gatehouse/gatehouse/requestcheck"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// Handler is the `http.handlers.gatehouse` middleware. It authenticates
// every request, applies the site's rules and rate limits, hands the
// upstream a clean identity and, when Endpoints is set, serves Gatehouse's
// own endpoints.
type Handler struct {
	// Rules are tried in order; the first whose methods and path match
	// decides what the request must present.
	Rules []config.Rule `json:"rules,omitempty"`

	// Default applies when no rule matches. Default: authenticated.
	Default *config.Requirement `json:"default,omitempty"`

	// Endpoints, when set, makes this site serve login, device flow, PAT
	// management and the other Gatehouse endpoints.
	Endpoints *Endpoints `json:"endpoints,omitempty"`

	// ForwardCredentials passes the caller's Authorization header and
	// session cookie to the upstream. Off by default: the upstream gets the
	// identity, not the secret.
	ForwardCredentials bool `json:"forward_credentials,omitempty"`

	// AllowMethodOverride lets method-override headers
	// (X-HTTP-Method-Override, X-HTTP-Method, X-Method-Override) and
	// _method fields reach the upstream; the rules then judge the
	// overridden method. Off by default: the headers are removed and a
	// _method field is refused, so a GET that passed a GET rule cannot act
	// as a DELETE in a framework that honours overrides.
	AllowMethodOverride bool `json:"allow_method_override,omitempty"`

	// HandleErrors hands the site's refusals to Caddy's handle_errors
	// routes, so an operator can restyle them (an HTML sign-in page for a
	// browser's 401, say): "all", or "browsers" for requests that accept
	// text/html. The challenge, Gatehouse-Accepted-Scopes, Retry-After and
	// RateLimit headers are set as usual, and {gatehouse.error} and
	// {gatehouse.error_message} hold the JSON body's fields. Gatehouse's
	// own endpoints always answer themselves. Default: off, the JSON body.
	HandleErrors string `json:"handle_errors,omitempty"`

	// Headers are the identity fields sent to the upstream as headers:
	// user_id, login, tier, scopes, credential, token_id, resource, role,
	// or ["none"]. Default: all of them. Fewer headers cost less per
	// request.
	Headers []string `json:"headers,omitempty"`

	// HeaderNames renames identity headers, by field: {"login":
	// "X-Remote-User"} for an app that expects that name. A renamed
	// field is sent even if Headers omits it, and a client's copy of the
	// header, in any spelling a CGI-style upstream folds together, is
	// deleted from every request.
	HeaderNames map[string]string `json:"header_names,omitempty"`

	// Assertion, when set, adds a signed identity assertion
	// (Gatehouse-Assertion, a JWT) to every request let through, so the
	// upstream can verify who it serves instead of trusting headers.
	Assertion *AssertionOptions `json:"assertion,omitempty"`

	// ForwardAuth turns on forward-auth mode: the forward_auth endpoint
	// (/gatehouse/auth) judges, with this site's rules, the original
	// request a trusted proxy in front (nginx auth_request, Traefik or
	// Caddy forward_auth) asks about, and answers 200 with the identity
	// headers or the refusal. Needs Endpoints.
	ForwardAuth bool `json:"forward_auth,omitempty"`

	app      *App
	upstream *gate.UpstreamHeaders
	signer   *assertion.Signer // nil without Assertion
	rules    *config.Rules
	site     *endpoints.Site // nil without Endpoints
	logger   *zap.Logger
}

// Endpoints turns on Gatehouse's own endpoints on a site (package
// endpoints). Each endpoint has a name and a default path; Paths moves
// any of them.
type Endpoints struct {
	// Paths overrides default paths by endpoint name, e.g.
	// {"login": "/signin"}. Names: see the README's endpoint table.
	Paths map[string]string `json:"paths,omitempty"`
	// Off names endpoints this site does not serve, e.g. ["console"]
	// (Caddyfile: `console off`).
	Off []string `json:"off,omitempty"`
	// PasskeyRPID is the passkeys' relying party id (a domain), for a site
	// whose browsers address it by another name than it sees behind a
	// proxy; empty: the host the browser used. PasskeyOrigins are then the
	// origins its pages are served from (default https://<PasskeyRPID>).
	PasskeyRPID    string   `json:"passkey_rp_id,omitempty"`
	PasskeyOrigins []string `json:"passkey_origins,omitempty"`
}

// passkeyOrigins are the configured origins, or https://<rp id>.
func (e *Endpoints) passkeyOrigins() []string {
	if len(e.PasskeyOrigins) > 0 || e.PasskeyRPID == "" {
		return e.PasskeyOrigins
	}
	return []string{"https://" + e.PasskeyRPID}
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.gatehouse",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision borrows the gatehouse app (creating it with defaults when the
// config has no `gatehouse` app) and compiles the rules against its policy.
func (h *Handler) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()
	appIface, err := ctx.App("gatehouse")
	if err != nil {
		return fmt.Errorf("getting gatehouse app: %w", err)
	}
	h.app = appIface.(*App)
	rules, err := h.app.policy.CompileRules(h.Rules, h.Default)
	if err != nil {
		return fmt.Errorf("gatehouse rules: %w", err)
	}
	h.rules = rules
	if h.upstream, err = gate.NewUpstreamHeaders(h.Headers, h.HeaderNames); err != nil {
		return fmt.Errorf("gatehouse headers: %w", err)
	}
	if err := h.provisionAssertion(); err != nil {
		return err
	}
	if h.Endpoints != nil {
		site, err := endpoints.New(endpoints.Config{
			Paths: h.Endpoints.Paths, Off: h.Endpoints.Off, PasskeyRPID: h.Endpoints.PasskeyRPID, PasskeyOrigins: h.Endpoints.passkeyOrigins(), Policy: h.app.policy, Gate: h.app.gate, Facts: caddyFacts{},
			Service: h.app.service, Registration: h.app.limits.registration, Metrics: metricsSink{}, Logger: h.logger,
			IdentityProviders: h.app.providers, Flows: idpFlows,
			ForwardAuth: h.forwardAuth(), Scanner: h.app.limits.scanner,
		})
		if err != nil {
			return err
		}
		h.site = site
	}
	return nil
}

// ServeHTTP implements caddyhttp.MiddlewareHandler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	if err := h.app.openStore(); err != nil {
		h.logger.Error("opening the gatehouse store", zap.Error(err))
		return h.refuse(w, r, storeUnavailable(), nil, nil)
	}
	if p := requestcheck.Request(r); p != nil {
		return h.refuse(w, r, p, nil, nil)
	}
	h.upstream.Strip(r.Header)
	if h.site != nil && h.site.Serves(r) {
		h.site.ServeHTTP(w, r)
		return nil
	}
	method, p := requestcheck.SiteMethod(r, h.AllowMethodOverride)
	if p != nil {
		return h.refuse(w, r, p, nil, nil)
	}
	if method != r.Method {
		// An allowed override: the rules judge the overridden method, and
		// the request must pass the rule for its own method too, since an
		// upstream that ignores the override acts on that one.
		own, ownParams := h.rules.Match(r.Method, r.URL.Path)
		if id, d := h.app.gate.Authorize(r, gate.Route{Rule: own, Params: &ownParams}); d != nil {
			return h.refuse(w, r, d, id, own)
		}
	}
	rule, params := h.rules.Match(method, r.URL.Path)
	id, d := h.app.gate.Admit(w, r, gate.Route{Rule: rule, Params: &params, Limit: rule.Limit})
	if d != nil {
		if h.toErrorRoutes(r) {
			return h.refuseToErrorRoutes(w, r, d, id, rule)
		}
		return h.refuse(w, r, d, id, rule)
	}
	repl := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	forward(r, repl, h.upstream, id)
	if h.signer != nil {
		if err := h.assert(r, id); err != nil {
			// Fail closed: an upstream that verifies would refuse the
			// request anyway, and one that does not must not get less.
			h.logger.Error("signing the identity assertion", zap.Error(err))
			return h.refuse(w, r, problem.Internal(), id, rule)
		}
	}
	if !h.ForwardCredentials {
		// Whether or not it verified: a cookie of the other name, say,
		// leaves the request anonymous but is still a credential.
		gate.StripCredentials(r)
	}
	countDecision(nil)
	return next.ServeHTTP(w, r)
}

// refuse answers a denial and logs it: every refusal of the handler comes
// here (or to refuseToErrorRoutes; the endpoints have their own, alike).
// rule is the site rule that refused, nil before any rule applied.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, d *problem.Problem, id *Identity, rule *config.CompiledRule) error {
	d = h.settle(w, r, d, id, rule)
	problem.Write(w, h.app.policy.Realm, d)
	return nil
}

// settle is what every refusal goes through, however it is answered:
// gate.Refuse charges a 401 to the client IP's anonymous budget (a 429
// once that is spent), then the denial gets its log line and its count.
// It returns the denial to answer.
func (h *Handler) settle(w http.ResponseWriter, r *http.Request, d *problem.Problem, id *Identity, rule *config.CompiledRule) *problem.Problem {
	d = h.app.gate.Refuse(w, r, d)
	var which []zap.Field
	if rule != nil && rule.Index >= 0 {
		which = append(which, zap.Int("rule", rule.Index+1))
	}
	gate.LogDenial(h.logger, r, d, id, clientIP(r), which...)
	countDecision(d)
	return d
}

// Values of Handler.HandleErrors.
const (
	handleErrorsAll      = "all"
	handleErrorsBrowsers = "browsers"
)

// toErrorRoutes reports whether a refusal of r goes to the site's
// handle_errors routes.
func (h *Handler) toErrorRoutes(r *http.Request) bool {
	switch h.HandleErrors {
	case handleErrorsAll:
		return true
	case handleErrorsBrowsers:
		return endpoints.AcceptsHTML(r)
	}
	return false
}

// refuseToErrorRoutes is refuse for a site that restyles its refusals:
// the same charge, log line, count and headers, and the body left to
// Caddy's handle_errors.
func (h *Handler) refuseToErrorRoutes(w http.ResponseWriter, r *http.Request, d *problem.Problem, id *Identity, rule *config.CompiledRule) error {
	if !h.ForwardCredentials {
		// The error routes may proxy (to an error page the app serves):
		// the caller's secret goes no further there than on success.
		gate.StripCredentials(r)
	}
	w.Header().Set("Cache-Control", "no-store")
	d = h.settle(w, r, d, id, rule)
	problem.SetHeaders(w.Header(), h.app.policy.Realm, d)
	if repl, ok := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer); ok {
		repl.Set("gatehouse.error", d.Code)
		repl.Set("gatehouse.error_message", d.Message)
	}
	return caddyhttp.Error(d.Status, d)
}

// forwardAuth is what the forward_auth endpoint judges with, or nil.
func (h *Handler) forwardAuth() *endpoints.ForwardAuth {
	if !h.ForwardAuth {
		return nil
	}
	fa := &endpoints.ForwardAuth{Rules: h.rules, Trust: caddyFacts{}, Headers: h.upstream}
	if h.signer != nil {
		fa.Assert = func(orig *http.Request, id *Identity) (string, error) {
			return h.signer.Assertion(id, h.audience(orig))
		}
	}
	return fa
}

// Validate checks the handler's options.
func (h *Handler) Validate() error {
	if h.ForwardAuth && h.Endpoints == nil {
		return fmt.Errorf("gatehouse: forward_auth needs endpoints: the forward_auth endpoint is one of them")
	}
	switch h.HandleErrors {
	case "", handleErrorsAll, handleErrorsBrowsers:
		return nil
	}
	return fmt.Errorf("gatehouse: handle_errors %q: want all or browsers", h.HandleErrors)
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.Validator             = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)
