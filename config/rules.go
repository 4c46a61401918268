package config

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Access levels a requirement can demand.
const (
	AccessAnonymous     = "anonymous"     // no credential needed; a presented one must still be valid
	AccessAuthenticated = "authenticated" // any valid credential
	AccessSession       = "session"       // a browser session only
	AccessDeny          = "deny"          // nobody
)

// Limit values of a rule besides a budget name.
const (
	LimitTier = ""         // the caller's tier budget
	LimitNone = "no_limit" // exempt from rate limiting
)

// Rule is one route rule: requests whose method and path match must meet
// Require. Rules are tried in order; the first match wins.
type Rule struct {
	// Methods the rule applies to; empty or "*" means all. GET also
	// covers HEAD.
	Methods []string `json:"methods,omitempty"`
	// Path is a Caddy path-matcher pattern, optionally with {name}
	// segments that role requirements refer to.
	Path string `json:"path"`
	// Require is what a request must present.
	Require Requirement `json:"require"`
	// Limit is "" (the caller's tier), "no_limit", or a budget's name.
	Limit string `json:"limit,omitempty"`
}

// Requirement is what a matched request must present.
type Requirement struct {
	// Access is anonymous, authenticated, session or deny. Default:
	// authenticated.
	Access string `json:"access,omitempty"`
	// Scopes must all be held by the credential.
	Scopes []string `json:"scopes,omitempty"`
	// Role demands a minimum role on the resource named in the path.
	Role *RoleRequirement `json:"role,omitempty"`
	// Admin demands that the credential's user holds the administrator
	// role (authstore.User.Admin), as Gatehouse's console does.
	Admin bool `json:"admin,omitempty"`
	// Self names a path placeholder that must equal the caller's login or
	// user id: `self agent` on /v1/export/{agent} lets each caller read
	// only their own export.
	Self string `json:"self,omitempty"`
	// Any, when set, demands that at least one of these alternatives
	// holds as well as the rest of this requirement: {"any": [{"scopes":
	// ["admin"]}, {"self": "agent"}]} is "admin, or the caller's own".
	// An alternative cannot be anonymous or deny, nor hold alternatives
	// of its own.
	Any []Requirement `json:"any,omitempty"`
}

// String writes r as the Caddyfile says it ("scope write", "self {agent}",
// "any { scope admin } { self {agent} }"), for messages that tell a caller
// what a route accepts.
func (r Requirement) String() string {
	var parts []string
	if r.Access != "" && (r.Access != AccessAuthenticated || len(r.Scopes) == 0 && r.Role == nil && r.Self == "" && len(r.Any) == 0 && !r.Admin) {
		parts = append(parts, r.Access)
	}
	if r.Admin {
		parts = append(parts, "admin")
	}
	if len(r.Scopes) > 0 {
		parts = append(parts, "scope "+strings.Join(r.Scopes, " "))
	}
	if r.Self != "" {
		parts = append(parts, "self {"+r.Self+"}")
	}
	if r.Role != nil {
		role := "role " + r.Role.Resource
		if r.Role.Param != "" && r.Role.Param != r.Role.Resource {
			role += " {" + r.Role.Param + "}"
		}
		parts = append(parts, role+" "+r.Role.Min)
	}
	if len(r.Any) > 0 {
		alts := make([]string, len(r.Any))
		for i, a := range r.Any {
			alts[i] = "{ " + a.String() + " }"
		}
		parts = append(parts, "any "+strings.Join(alts, " "))
	}
	if len(parts) == 0 {
		return AccessAuthenticated
	}
	return strings.Join(parts, " ")
}

// RoleRequirement demands at least role Min on the resource of type
// Resource whose name is the path placeholder Param (default: the type's
// name, as in /api/projects/{project}/*).
type RoleRequirement struct {
	// Resource is the resource type.
	Resource string `json:"resource"`
	// Param is the path placeholder naming the resource. Default: Resource.
	Param string `json:"param,omitempty"`
	// Min is the lowest role that passes.
	Min string `json:"min"`
}

// CompiledRule is a validated rule ready to match.
type CompiledRule struct {
	// Index is the rule's position (0-based; -1 for the site default).
	Index   int
	Methods []string
	Path    string
	Require Requirement
	Limit   string
	// MinRank is the rank of Require.Role.Min among its type's roles.
	MinRank int
	// AcceptedScopes is Require.Scopes joined by spaces, computed once for
	// the Gatehouse-Accepted-Scopes header. With alternatives it is every
	// scope that some alternative accepts (and the scopes all demand), as
	// GitHub's X-Accepted-OAuth-Scopes lists what any one way in needs.
	AcceptedScopes string
	// Alternatives are Require.Any compiled, each a rule of its own over
	// the same path, so a decision applies them as it applies this one.
	Alternatives []*CompiledRule

	path pathPattern
	// roleType is the resource type Require.Role names, kept so a role
	// decision needs no map lookup.
	roleType ResourceType
}

// Rules is a site's compiled rule list and default.
type Rules struct {
	list []*CompiledRule
	def  *CompiledRule
}

// CompileRules validates a site's rules against the policy. def applies
// when no rule matches (nil: authenticated).
func (p *Policy) CompileRules(rules []Rule, def *Requirement) (*Rules, error) {
	rs := &Rules{}
	var errs []error
	for i, r := range rules {
		c, err := p.CompileRule(r)
		if err != nil {
			errs = append(errs, fmt.Errorf("rule %d (%s %s): %w", i+1, strings.Join(r.Methods, ","), r.Path, err))
			continue
		}
		c.setIndex(i)
		rs.list = append(rs.list, c)
	}
	d := Requirement{Access: AccessAuthenticated}
	if def != nil {
		d = *def
	}
	c, err := p.CompileRule(Rule{Path: "*", Require: d})
	if err != nil {
		errs = append(errs, fmt.Errorf("default: %w", err))
	} else {
		c.setIndex(-1)
		rs.def = c
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return rs, nil
}

// CompileRule validates one rule: known methods, a valid pattern, scopes
// from the catalog, a declared resource type and role whose placeholder
// appears in the path, and a declared budget.
func (p *Policy) CompileRule(r Rule) (*CompiledRule, error) {
	c := &CompiledRule{Path: r.Path, Require: r.Require, Limit: r.Limit}
	for _, m := range r.Methods {
		m = strings.ToUpper(m)
		if m == "*" {
			c.Methods = nil
			break
		}
		if !IsMethod(m) {
			return nil, fmt.Errorf("unknown method %q", m)
		}
		if !slices.Contains(c.Methods, m) {
			c.Methods = append(c.Methods, m)
		}
	}
	if slices.Contains(c.Methods, http.MethodGet) && !slices.Contains(c.Methods, http.MethodHead) {
		c.Methods = append(c.Methods, http.MethodHead)
	}
	pat, err := compilePath(r.Path)
	if err != nil {
		return nil, err
	}
	c.path = pat
	if err := p.compileRequirement(c, false); err != nil {
		return nil, err
	}
	switch r.Limit {
	case LimitTier, LimitNone:
	default:
		if _, ok := p.Budgets[r.Limit]; !ok {
			return nil, fmt.Errorf("unknown budget %q (declared: %s)", r.Limit, strings.Join(sortedKeys(p.Budgets), ", "))
		}
	}
	return c, nil
}

// AdminRule is the requirement of Gatehouse's console: a browser
// session of a user with the administrator role.
func AdminRule() *CompiledRule {
	r := AccessRule(AccessSession)
	r.Require.Admin = true
	return r
}

// compileRequirement validates c.Require against the policy and c's path
// and fills what a decision needs; alt says c is one of a rule's
// alternatives.
func (p *Policy) compileRequirement(c *CompiledRule, alt bool) error {
	req := &c.Require
	if req.Access == "" {
		req.Access = AccessAuthenticated
	}
	switch req.Access {
	case AccessAnonymous, AccessAuthenticated, AccessSession, AccessDeny:
	default:
		return fmt.Errorf("unknown access %q (want anonymous, authenticated, session or deny)", req.Access)
	}
	if alt && (req.Access == AccessAnonymous || req.Access == AccessDeny) {
		return fmt.Errorf("an alternative cannot be %s (say it for the whole rule instead)", req.Access)
	}
	if req.Access == AccessAnonymous && (len(req.Scopes) > 0 || req.Role != nil || req.Self != "" || len(req.Any) > 0 || req.Admin) {
		return errors.New("anonymous cannot be combined with scope, role, self, any or admin")
	}
	if err := p.CheckScopes(req.Scopes); err != nil {
		return err
	}
	params := c.path.params()
	c.AcceptedScopes = strings.Join(req.Scopes, " ")
	if role := req.Role; role != nil {
		if err := p.CheckRoleName(role.Resource, role.Min); err != nil {
			return err
		}
		c.roleType = p.Resources[role.Resource]
		c.MinRank = c.roleType.Rank(role.Min)
		if role.Param == "" {
			req.Role = &RoleRequirement{Resource: role.Resource, Param: role.Resource, Min: role.Min}
		}
		if !slices.Contains(params, req.Role.Param) {
			return fmt.Errorf("role %s needs the placeholder {%s} in the path", role.Resource, req.Role.Param)
		}
	}
	if req.Self != "" && !slices.Contains(params, req.Self) {
		return fmt.Errorf("self {%s}: the path %s has no placeholder {%s}%s", req.Self, c.Path, req.Self, knownParams(params))
	}
	if req.Any == nil {
		return nil
	}
	if alt {
		return errors.New("alternatives cannot hold alternatives of their own")
	}
	if len(req.Any) == 0 {
		return errors.New("any needs at least one alternative")
	}
	req.Any = slices.Clone(req.Any) // filled in below; the caller's rule stays as written
	accepted := slices.Clone(req.Scopes)
	for i, a := range req.Any {
		ac := &CompiledRule{Index: c.Index, Methods: c.Methods, Path: c.Path, Require: a, Limit: c.Limit, path: c.path}
		if err := p.compileRequirement(ac, true); err != nil {
			return fmt.Errorf("alternative %d (%s): %w", i+1, a, err)
		}
		req.Any[i] = ac.Require
		c.Alternatives = append(c.Alternatives, ac)
		for _, s := range ac.Require.Scopes {
			if !slices.Contains(accepted, s) {
				accepted = append(accepted, s)
			}
		}
	}
	c.AcceptedScopes = strings.Join(accepted, " ")
	return nil
}

// setIndex numbers the rule and its alternatives.
func (c *CompiledRule) setIndex(i int) {
	c.Index = i
	for _, a := range c.Alternatives {
		a.Index = i
	}
}

// knownParams lists a path's placeholders for an error message.
func knownParams(params []string) string {
	if len(params) == 0 {
		return ""
	}
	return " (it has {" + strings.Join(params, "}, {") + "})"
}

// AccessRule is a rule for every path that demands only access (one of
// the Access constants): the requirement of an endpoint, in the same
// terms as a route rule.
func AccessRule(access string) *CompiledRule {
	return &CompiledRule{Index: -1, Path: "*", Require: Requirement{Access: access}, path: pathPattern{kind: kindAny}}
}

// Match returns the first rule matching method and the request's decoded
// path, or the default, with any placeholders captured. It does not
// allocate for clean, lower-case paths.
func (rs *Rules) Match(method, reqPath string) (*CompiledRule, Params) {
	var ps Params
	clean := CleanPath(reqPath)
	lower := strings.ToLower(clean)
	for _, r := range rs.list {
		if r.Methods != nil && !slices.Contains(r.Methods, method) {
			continue
		}
		if r.path.match(clean, lower, &ps) {
			return r, ps
		}
	}
	return rs.def, Params{}
}

// Len is the number of rules, the default excluded.
func (rs *Rules) Len() int { return len(rs.list) }
