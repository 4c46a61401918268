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
	// the Gatehouse-Accepted-Scopes header.
	AcceptedScopes string

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
		c.Index = i
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
		c.Index = -1
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
	req := &c.Require
	if req.Access == "" {
		req.Access = AccessAuthenticated
	}
	switch req.Access {
	case AccessAnonymous, AccessAuthenticated, AccessSession, AccessDeny:
	default:
		return nil, fmt.Errorf("unknown access %q (want anonymous, authenticated, session or deny)", req.Access)
	}
	if req.Access == AccessAnonymous && (len(req.Scopes) > 0 || req.Role != nil || req.Admin) {
		return nil, errors.New("anonymous cannot be combined with scope, role or admin")
	}
	if err := p.CheckScopes(req.Scopes); err != nil {
		return nil, err
	}
	c.AcceptedScopes = strings.Join(req.Scopes, " ")
	if role := req.Role; role != nil {
		if err := p.CheckRoleName(role.Resource, role.Min); err != nil {
			return nil, err
		}
		c.roleType = p.Resources[role.Resource]
		c.MinRank = c.roleType.Rank(role.Min)
		if role.Param == "" {
			req.Role = &RoleRequirement{Resource: role.Resource, Param: role.Resource, Min: role.Min}
		}
		if !slices.Contains(pat.params(), req.Role.Param) {
			return nil, fmt.Errorf("role %s needs the placeholder {%s} in the path", role.Resource, req.Role.Param)
		}
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
