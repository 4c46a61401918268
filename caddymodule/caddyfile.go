package caddymodule

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/gatehouse/gatehouse/assertion"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/endpoints"
	"github.com/gatehouse/gatehouse/gate"
	"github.com/gatehouse/gatehouse/ratelimit"
)

func init() {
	httpcaddyfile.RegisterGlobalOption("gatehouse", parseGlobal)
	httpcaddyfile.RegisterHandlerDirective("gatehouse", parseDirective)
	// Authentication must run before anything that answers or routes
	// (handle, route, respond, reverse_proxy, file_server), like basic_auth.
	httpcaddyfile.RegisterDirectiveOrder("gatehouse", httpcaddyfile.Before, "basic_auth")
}

// parseGlobal sets up the gatehouse app from the global option. Syntax:
//
//	gatehouse {
//	    store <path>
//	    store etcd {
//	        endpoints <url...>
//	        prefix <prefix>
//	        mirror <path>
//	        max_staleness <duration>
//	        on_stale refuse|serve
//	        edge_id <id>
//	        username <name>
//	        password <password>
//	        tls {
//	            ca <file>
//	            cert <file>
//	            key <file>
//	        }
//	    }
//	    token_prefix <prefix>
//	    scopes <scope...>  (RFC 6749 scope tokens: read, papers:write)
//	    pat_max_days <days>
//	    pat_allow_no_expiry
//	    tier <name> <count>/<window> [burst <n>]
//	    default_tier <name>
//	    budget <name> <count>/<window> [burst <n>]
//	    resource <type> <role...>
//	    session_ttl|access_ttl|refresh_ttl|device_code_ttl|device_interval <duration>
//	    realm <name>
//	    registration {
//	        tiers <tier...>
//	        scopes <scope...>
//	        limit <count>/<window>
//	        expires_days <days>
//	    }
//	    identity_provider <name> oidc|github { … }   (caddyfile_idp.go)
//	    local_login on|off
//	}
func parseGlobal(d *caddyfile.Dispenser, existing any) (any, error) {
	if existing != nil {
		return nil, d.Err("the gatehouse global option may appear only once")
	}
	g, err := unmarshalGlobal(d)
	if err != nil {
		return nil, err
	}
	return httpcaddyfile.App{Name: "gatehouse", Value: caddyconfig.JSON(g, nil)}, nil
}

// deferredCheck is a check that needs the whole block (a default tier
// named before the tiers are), remembered with its position. It gets a
// Policy holding only the block's scopes and tiers.
type deferredCheck struct {
	file string
	line int
	run  func(*config.Policy) error
}

func unmarshalGlobal(d *caddyfile.Dispenser) (config.Global, error) {
	var (
		g      config.Global
		checks []deferredCheck
	)
	d.Next() // consume option name
	if d.NextArg() {
		return g, d.ArgErr()
	}
	later := func(run func(*config.Policy) error) {
		checks = append(checks, deferredCheck{file: d.File(), line: d.Line(), run: run})
	}
	for d.NextBlock(0) {
		switch d.Val() {
		case "store":
			if !d.NextArg() {
				return g, d.ArgErr()
			}
			if d.Val() == "etcd" {
				e, err := unmarshalEtcd(d)
				if err != nil {
					return g, err
				}
				g.Etcd = e
				break
			}
			g.Store = d.Val()
			if d.NextArg() {
				return g, d.ArgErr()
			}
		case "token_prefix":
			if !d.AllArgs(&g.TokenPrefix) {
				return g, d.ArgErr()
			}
			if err := authstore.ValidatePrefix(g.TokenPrefix); err != nil {
				return g, d.Err(err.Error())
			}
		case "scopes":
			args := d.RemainingArgs()
			if len(args) == 0 {
				return g, d.ArgErr()
			}
			for _, s := range args {
				if err := config.ValidateScope(s); err != nil {
					return g, d.Err(err.Error())
				}
				if slices.Contains(g.Scopes, s) {
					return g, d.Errf("scope %s declared twice", s)
				}
				g.Scopes = append(g.Scopes, s)
			}
		case "pat_max_days":
			n, err := intArg(d, 1, 36500)
			if err != nil {
				return g, err
			}
			g.PATMaxDays = n
		case "pat_allow_no_expiry":
			if d.NextArg() {
				return g, d.ArgErr()
			}
			g.PATAllowNoExpiry = true
		case "tier", "budget":
			kind := d.Val()
			t, err := unmarshalTier(d)
			if err != nil {
				return g, err
			}
			list := &g.Tiers
			if kind == "budget" {
				list = &g.Budgets
			}
			if slices.ContainsFunc(*list, func(o config.Tier) bool { return o.Name == t.Name }) {
				return g, d.Errf("%s %s declared twice", kind, t.Name)
			}
			*list = append(*list, t)
		case "default_tier":
			if !d.AllArgs(&g.DefaultTier) {
				return g, d.ArgErr()
			}
			name := g.DefaultTier
			later(func(p *config.Policy) error { return p.CheckTier(name) })
		case "resource":
			args := d.RemainingArgs()
			if len(args) < 2 {
				return g, d.Err("resource needs a type and its roles, lowest first: resource project read edit manage")
			}
			if slices.ContainsFunc(g.Resources, func(r config.ResourceType) bool { return r.Name == args[0] }) {
				return g, d.Errf("resource %s declared twice", args[0])
			}
			rt := config.ResourceType{Name: args[0], Roles: args[1:]}
			if err := config.ValidateResourceType(rt); err != nil {
				return g, d.Err(err.Error())
			}
			g.Resources = append(g.Resources, rt)
		case "session_ttl", "access_ttl", "refresh_ttl", "device_code_ttl", "device_interval":
			if err := durationArg(d, globalDuration(&g, d.Val())); err != nil {
				return g, err
			}
		case "realm":
			if !d.AllArgs(&g.Realm) {
				return g, d.ArgErr()
			}
		case "registration":
			reg, err := unmarshalRegistration(d, later)
			if err != nil {
				return g, err
			}
			g.Registration = reg
		case "identity_provider":
			ip, err := unmarshalIdentityProvider(d, later)
			if err != nil {
				return g, err
			}
			if slices.ContainsFunc(g.IdentityProviders, func(o config.IdentityProvider) bool { return o.Name == ip.Name }) {
				return g, d.Errf("identity_provider %s declared twice", ip.Name)
			}
			g.IdentityProviders = append(g.IdentityProviders, ip)
		case "local_login":
			on, err := onOffArg(d)
			if err != nil {
				return g, err
			}
			g.LocalLogin = &on
		default:
			return g, d.Errf("unrecognized gatehouse option '%s'", d.Val())
		}
	}
	// Checks that name tiers or scopes run against the whole block first,
	// so their error points at their own line.
	catalog := &config.Policy{Scopes: g.Scopes, Tiers: map[string]config.Tier{}, DefaultTier: cmp.Or(g.DefaultTier, config.DefaultTierName)}
	for _, t := range g.Tiers {
		catalog.Tiers[t.Name] = t
	}
	for _, c := range checks {
		if err := c.run(catalog); err != nil {
			return g, fmt.Errorf("%w, at %s:%d", err, c.file, c.line)
		}
	}
	if _, err := compilePolicy(g); err != nil {
		return g, d.Err(err.Error())
	}
	return g, nil
}

func globalDuration(g *config.Global, name string) *config.Duration {
	switch name {
	case "session_ttl":
		return &g.SessionTTL
	case "access_ttl":
		return &g.AccessTTL
	case "refresh_ttl":
		return &g.RefreshTTL
	case "device_code_ttl":
		return &g.DeviceCodeTTL
	}
	return &g.DeviceInterval
}

// unmarshalTier reads `<name> <count>/<window> [burst <n>]`.
func unmarshalTier(d *caddyfile.Dispenser) (config.Tier, error) {
	var t config.Tier
	if !d.Args(&t.Name, &t.Rate) {
		return t, d.ArgErr()
	}
	if _, _, err := ratelimit.ParseRate(t.Rate); err != nil {
		return t, d.Err(err.Error())
	}
	if d.NextArg() {
		if d.Val() != "burst" {
			return t, d.Errf("unexpected '%s' (want burst <n>)", d.Val())
		}
		n, err := intArg(d, 1, 1<<30)
		if err != nil {
			return t, err
		}
		t.Burst = n
	}
	if d.NextArg() {
		return t, d.ArgErr()
	}
	return t, nil
}

func unmarshalRegistration(d *caddyfile.Dispenser, later func(func(*config.Policy) error)) (*config.Registration, error) {
	reg := &config.Registration{}
	if d.NextArg() {
		return nil, d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		switch d.Val() {
		case "tiers":
			reg.Tiers = d.RemainingArgs()
			if len(reg.Tiers) == 0 {
				return nil, d.ArgErr()
			}
			tiers := reg.Tiers
			later(func(p *config.Policy) error {
				for _, t := range tiers {
					if err := p.CheckTier(t); err != nil {
						return fmt.Errorf("registration: %w", err)
					}
				}
				return nil
			})
		case "scopes":
			reg.Scopes = d.RemainingArgs()
			scopes := reg.Scopes
			later(func(p *config.Policy) error { return p.CheckScopes(scopes) })
		case "limit":
			if !d.AllArgs(&reg.Limit) {
				return nil, d.ArgErr()
			}
			if _, _, err := ratelimit.ParseRate(reg.Limit); err != nil {
				return nil, d.Err(err.Error())
			}
		case "expires_days":
			n, err := intArg(d, 1, 36500)
			if err != nil {
				return nil, err
			}
			reg.ExpiresDays = n
		default:
			return nil, d.Errf("unrecognized registration option '%s'", d.Val())
		}
	}
	return reg, nil
}

// parseDirective sets up the handler from a site's `gatehouse` block.
// Syntax:
//
//	gatehouse {
//	    endpoints [{
//	        <endpoint-name> <path> | off
//	        passkey_rp_id <domain>
//	        passkey_origins <origin...>
//	    }]
//	    rule <methods|*> <path> <requirement> [no_limit | limit <budget>]
//	    default <requirement>
//	    forward_credentials
//	    allow_method_override
//	    handle_errors [all|browsers]
//	    headers <field...>|none
//	    header <field> <Header-Name>
//	    forward_auth
//	    assertion [{
//	        audience <aud>
//	        issuer <iss>
//	        alg EdDSA|ES256
//	        ttl <duration ≤ 1m>
//	    }]
//	}
//
// where <requirement> is anonymous, authenticated, session or deny, and/or
// `scope <scope...>`, `role <type> [{placeholder}] <min-role>` and
// `self {placeholder}`. A rule may offer alternatives, any one of which
// passes, on one line or as a block with one alternative per line:
//
//	rule GET /v1/export/{agent} self {agent} or scope admin
//	rule DELETE /v1/knowledge/* [<requirement all demand>] any {
//	    scope admin
//	    scope write
//	}
//
// Rules are validated against the global `gatehouse` option here, so an
// unknown scope, tier, budget or role fails with its file and line.
func parseDirective(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	policy, err := globalPolicy(h)
	if err != nil {
		return nil, h.Err(err.Error())
	}
	handler := new(Handler)
	if err := handler.unmarshal(h.Dispenser, policy); err != nil {
		return nil, err
	}
	return handler, nil
}

// globalPolicy compiles the global option (or the defaults, when there is
// none) so the site's rules can be checked while their position is known.
func globalPolicy(h httpcaddyfile.Helper) (*config.Policy, error) {
	var g config.Global
	if app, ok := h.Option("gatehouse").(httpcaddyfile.App); ok {
		if err := json.Unmarshal(app.Value, &g); err != nil {
			return nil, fmt.Errorf("reading the global gatehouse option: %w", err)
		}
	}
	return compilePolicy(g)
}

// UnmarshalCaddyfile fills the handler from a `gatehouse` block without
// checking rules against the global policy (Provision does that); the
// Caddyfile adapter uses parseDirective, which checks at parse time.
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	return h.unmarshal(d, nil)
}

func (h *Handler) unmarshal(d *caddyfile.Dispenser, policy *config.Policy) error {
	d.Next() // consume directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		switch d.Val() {
		case "endpoints":
			if h.Endpoints != nil {
				return d.Err("endpoints given twice")
			}
			ep, err := unmarshalEndpoints(d)
			if err != nil {
				return err
			}
			h.Endpoints = ep
		case "rule":
			line := d.Line()
			r, err := unmarshalRule(d)
			if err != nil {
				return err
			}
			if policy != nil {
				if _, err := policy.CompileRule(r); err != nil {
					// A rule with an any block ends on a later line: point at its own.
					return fmt.Errorf("%w, at %s:%d", err, d.File(), line)
				}
			}
			h.Rules = append(h.Rules, r)
		case "default":
			if h.Default != nil {
				return d.Err("default given twice")
			}
			line := d.Line()
			req, limit, err := unmarshalRuleRequirement(d, d.RemainingArgs())
			if err != nil {
				return err
			}
			if limit != "" {
				return d.Err("default takes no limit; put limits on rules")
			}
			if policy != nil {
				if _, err := policy.CompileRule(config.Rule{Path: "*", Require: req}); err != nil {
					return fmt.Errorf("%w, at %s:%d", err, d.File(), line)
				}
			}
			h.Default = &req
		case "forward_credentials":
			if d.NextArg() {
				return d.ArgErr()
			}
			h.ForwardCredentials = true
		case "forward_auth":
			if d.NextArg() {
				return d.ArgErr()
			}
			h.ForwardAuth = true
		case "allow_method_override":
			if d.NextArg() {
				return d.ArgErr()
			}
			h.AllowMethodOverride = true
		case "handle_errors":
			h.HandleErrors = handleErrorsAll
			if d.NextArg() {
				h.HandleErrors = d.Val()
			}
			if d.NextArg() {
				return d.ArgErr()
			}
			if err := h.Validate(); err != nil {
				return d.Err(err.Error())
			}
		case "assertion":
			if h.Assertion != nil {
				return d.Err("assertion given twice")
			}
			o, err := unmarshalAssertion(d)
			if err != nil {
				return err
			}
			h.Assertion = o
		case "headers":
			if h.Headers != nil {
				return d.Err("headers given twice")
			}
			h.Headers = d.RemainingArgs()
			if len(h.Headers) == 0 {
				return d.Errf("headers needs the identity fields to send (%s) or none", strings.Join(gate.FieldNames(), " "))
			}
			if _, err := gate.NewUpstreamHeaders(h.Headers, nil); err != nil {
				return d.Err(err.Error())
			}
		case "header":
			var field, name string
			if !d.AllArgs(&field, &name) {
				return d.Err("header needs an identity field and the header name to send it as: header login X-Remote-User")
			}
			if _, dup := h.HeaderNames[field]; dup {
				return d.Errf("header %s given twice", field)
			}
			if h.HeaderNames == nil {
				h.HeaderNames = map[string]string{}
			}
			h.HeaderNames[field] = name
			if _, err := gate.NewUpstreamHeaders(h.Headers, h.HeaderNames); err != nil {
				return d.Err(err.Error())
			}
		default:
			return d.Errf("unrecognized gatehouse subdirective '%s'", d.Val())
		}
	}
	return nil
}

func unmarshalEndpoints(d *caddyfile.Dispenser) (*Endpoints, error) {
	ep := &Endpoints{}
	if d.NextArg() {
		return nil, d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		name := d.Val()
		switch name {
		case "passkey_rp_id":
			if !d.AllArgs(&ep.PasskeyRPID) {
				return nil, d.ArgErr()
			}
			continue
		case "passkey_origins":
			ep.PasskeyOrigins = d.RemainingArgs()
			if len(ep.PasskeyOrigins) == 0 {
				return nil, d.ArgErr()
			}
			continue
		}
		if !endpoints.Known(name) {
			return nil, d.Errf("unknown endpoint '%s' (known: %s)", name, strings.Join(endpoints.Names(), ", "))
		}
		var path string
		if !d.AllArgs(&path) {
			return nil, d.ArgErr()
		}
		if path == "off" {
			ep.Off = append(ep.Off, name)
			continue
		}
		if !strings.HasPrefix(path, "/") || config.CleanPath(path) != path {
			return nil, d.Errf("endpoint %s: path %q must be a clean absolute path", name, path)
		}
		if ep.Paths == nil {
			ep.Paths = map[string]string{}
		}
		ep.Paths[name] = path
	}
	return ep, nil
}

// unmarshalAssertion reads `assertion [{ audience … issuer … alg … ttl … }]`.
func unmarshalAssertion(d *caddyfile.Dispenser) (*AssertionOptions, error) {
	o := &AssertionOptions{}
	if d.NextArg() {
		return nil, d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		opt := d.Val()
		var v string
		if !d.AllArgs(&v) {
			return nil, d.ArgErr()
		}
		switch opt {
		case "audience":
			o.Audience = v
		case "issuer":
			o.Issuer = v
		case "alg":
			if err := authstore.ValidateAssertionAlg(v); err != nil {
				return nil, d.Err(err.Error())
			}
			o.Alg = v
		case "ttl":
			ttl, err := caddy.ParseDuration(v)
			if err != nil || ttl < time.Second || ttl > assertion.MaxTTL {
				return nil, d.Errf("assertion ttl %s: want a duration from 1s to %s", v, assertion.MaxTTL)
			}
			o.TTL = caddy.Duration(ttl)
		default:
			return nil, d.Errf("unrecognized assertion option '%s' (want audience, issuer, alg or ttl)", opt)
		}
	}
	return o, nil
}

// unmarshalRule reads `rule <methods> <path> <requirement...>`.
func unmarshalRule(d *caddyfile.Dispenser) (config.Rule, error) {
	args := d.RemainingArgs()
	if len(args) < 3 {
		return config.Rule{}, d.Err("rule needs methods, a path and a requirement: rule GET /api/* scope api:read")
	}
	r := config.Rule{Path: args[1]}
	if args[0] != "*" {
		r.Methods = strings.Split(args[0], ",")
	}
	req, limit, err := unmarshalRuleRequirement(d, args[2:])
	if err != nil {
		return r, err
	}
	r.Require, r.Limit = req, limit
	return r, nil
}

// unmarshalRuleRequirement reads a rule's requirement with its
// alternatives: `<req> or <req>…` on the line, or `[<req>] any` followed
// by a block of one alternative per line.
func unmarshalRuleRequirement(d *caddyfile.Dispenser, args []string) (config.Requirement, string, error) {
	if n := len(args); n > 0 && args[n-1] == "any" {
		req, limit := config.Requirement{}, ""
		if n > 1 {
			var err error
			if req, limit, err = unmarshalRequirement(d, args[:n-1]); err != nil {
				return req, "", err
			}
		}
		alts := []config.Requirement{}
		for nesting := d.Nesting(); d.NextBlock(nesting); {
			line := append([]string{d.Val()}, d.RemainingArgs()...)
			alt, altLimit, err := unmarshalRequirement(d, line)
			if err != nil {
				return req, "", err
			}
			if altLimit != "" {
				return req, "", d.Err("put no_limit or limit on the rule's line, not on an alternative")
			}
			if alt.Any != nil {
				return req, "", d.Err("alternatives cannot hold alternatives of their own")
			}
			alts = append(alts, alt)
		}
		if len(alts) == 0 {
			return req, "", d.Err("any needs a block with at least one alternative, one per line")
		}
		req.Any = alts
		return req, limit, nil
	}
	if !slices.Contains(args, "or") {
		return unmarshalRequirement(d, args)
	}
	var (
		req   config.Requirement
		limit string
	)
	for part := range splitWords(args, "or") {
		if len(part) == 0 {
			return req, "", d.Err("'or' needs a requirement on each side: self {agent} or scope admin")
		}
		alt, l, err := unmarshalRequirement(d, part)
		if err != nil {
			return req, "", err
		}
		if l != "" {
			if limit != "" {
				return req, "", d.Err("give at most one of no_limit and limit")
			}
			limit = l
		}
		req.Any = append(req.Any, alt)
	}
	return req, limit, nil
}

// splitWords yields the runs of words between each sep.
func splitWords(words []string, sep string) func(func([]string) bool) {
	return func(yield func([]string) bool) {
		start := 0
		for i, w := range words {
			if w == sep {
				if !yield(words[start:i]) {
					return
				}
				start = i + 1
			}
		}
		yield(words[start:])
	}
}

// unmarshalRequirement reads the words after a rule's path (or after
// `default`): access words, `scope <s...>`, `role <type> [{param}] <min>`,
// and `no_limit` or `limit <budget>`.
func unmarshalRequirement(d *caddyfile.Dispenser, args []string) (config.Requirement, string, error) {
	var (
		req   config.Requirement
		limit string
	)
	if len(args) == 0 {
		return req, "", d.Err("missing requirement: anonymous, authenticated, session, deny, scope … or role …")
	}
	setAccess := func(a string) error {
		if req.Access != "" {
			return d.Errf("'%s' conflicts with '%s'", a, req.Access)
		}
		req.Access = a
		return nil
	}
	for i := 0; i < len(args); i++ {
		switch w := args[i]; w {
		case config.AccessAnonymous, config.AccessAuthenticated, config.AccessSession, config.AccessDeny:
			if err := setAccess(w); err != nil {
				return req, "", err
			}
		case "administrator":
			req.Admin = true
		case "scope":
			start := i + 1
			for i+1 < len(args) && !isRequirementKeyword(args[i+1]) {
				i++
			}
			if i+1 == start {
				return req, "", d.Err("scope needs at least one scope")
			}
			req.Scopes = append(req.Scopes, args[start:i+1]...)
		case "role":
			rest := args[i+1:]
			n := 0
			for n < len(rest) && !isRequirementKeyword(rest[n]) {
				n++
			}
			role := &config.RoleRequirement{}
			switch n {
			case 2:
				role.Resource, role.Min = rest[0], rest[1]
			case 3:
				if !strings.HasPrefix(rest[1], "{") || !strings.HasSuffix(rest[1], "}") {
					return req, "", d.Errf("role placeholder %q must look like {name}", rest[1])
				}
				role.Resource, role.Param, role.Min = rest[0], strings.Trim(rest[1], "{}"), rest[2]
			default:
				return req, "", d.Err("role needs a resource type, an optional {placeholder} and a minimum role: role project edit")
			}
			if req.Role != nil {
				return req, "", d.Err("only one role per rule")
			}
			req.Role = role
			i += n
		case "self":
			if i+1 >= len(args) || !strings.HasPrefix(args[i+1], "{") || !strings.HasSuffix(args[i+1], "}") || len(args[i+1]) < 3 {
				return req, "", d.Err("self needs a path placeholder: self {agent}")
			}
			if req.Self != "" {
				return req, "", d.Err("only one self per requirement")
			}
			i++
			req.Self = strings.Trim(args[i], "{}")
		case "any", "or":
			return req, "", d.Errf("'%s' goes on its own: `rule … self {agent} or scope admin`, or `rule … any {` with one alternative per line", w)
		case config.LimitNone:
			if limit != "" {
				return req, "", d.Err("give at most one of no_limit and limit")
			}
			limit = config.LimitNone
		case "limit":
			if limit != "" || i+1 >= len(args) {
				return req, "", d.Err("limit needs one budget name (and not together with no_limit)")
			}
			i++
			limit = args[i]
		default:
			return req, "", d.Errf("unknown requirement '%s' (want anonymous, authenticated, session, deny, administrator, scope, role, self, or, any, no_limit or limit)", w)
		}
	}
	return req, limit, nil
}

func isRequirementKeyword(w string) bool {
	switch w {
	case config.AccessAnonymous, config.AccessAuthenticated, config.AccessSession, config.AccessDeny,
		"scope", "role", "administrator", "self", "or", "any", config.LimitNone, "limit":
		return true
	}
	return false
}

func intArg(d *caddyfile.Dispenser, lo, hi int) (int, error) {
	if !d.NextArg() {
		return 0, d.ArgErr()
	}
	n, err := strconv.Atoi(d.Val())
	if err != nil || n < lo || n > hi {
		return 0, d.Errf("%s: want a whole number from %d to %d", d.Val(), lo, hi)
	}
	if d.NextArg() {
		return 0, d.ArgErr()
	}
	return n, nil
}

// unmarshalEtcd reads the block of `store etcd { … }` (fleet mode).
func unmarshalEtcd(d *caddyfile.Dispenser) (*config.Etcd, error) {
	e := &config.Etcd{}
	if d.NextArg() {
		return nil, d.ArgErr()
	}
	one := func(dst *string) error {
		if !d.AllArgs(dst) {
			return d.ArgErr()
		}
		return nil
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch d.Val() {
		case "endpoints":
			e.Endpoints = append(e.Endpoints, d.RemainingArgs()...)
			if len(e.Endpoints) == 0 {
				return nil, d.ArgErr()
			}
		case "prefix":
			err = one(&e.Prefix)
		case "mirror":
			err = one(&e.Mirror)
		case "max_staleness":
			err = durationArg(d, &e.MaxStaleness)
		case "on_stale":
			err = one(&e.OnStale)
		case "edge_id":
			err = one(&e.EdgeID)
		case "username":
			err = one(&e.Username)
		case "password":
			err = one(&e.Password)
		case "tls":
			e.TLS = &config.EtcdTLS{}
			if d.NextArg() {
				return nil, d.ArgErr()
			}
			for tn := d.Nesting(); d.NextBlock(tn); {
				switch d.Val() {
				case "ca":
					err = one(&e.TLS.CA)
				case "cert":
					err = one(&e.TLS.Cert)
				case "key":
					err = one(&e.TLS.Key)
				default:
					return nil, d.Errf("store etcd tls: unknown option %q", d.Val())
				}
				if err != nil {
					return nil, err
				}
			}
		default:
			return nil, d.Errf("store etcd: unknown option %q", d.Val())
		}
		if err != nil {
			return nil, err
		}
	}
	if err := e.Validate(); err != nil {
		return nil, d.Err(err.Error())
	}
	return e, nil
}

func durationArg(d *caddyfile.Dispenser, dst *config.Duration) error {
	var s string
	if !d.AllArgs(&s) {
		return d.ArgErr()
	}
	v, err := config.ParseDuration(s)
	if err != nil {
		return d.Err(err.Error())
	}
	*dst = config.Duration(v)
	return nil
}

// Interface guards
var _ caddyfile.Unmarshaler = (*Handler)(nil)
