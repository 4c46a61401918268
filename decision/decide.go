package decision

import (
	"net/url"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
)

// Outcome is what a decision says, allow or why not.
type Outcome uint8

// Outcomes, in the order Decide tests them.
const (
	// Allow: the request may proceed as Decision.Identity.
	Allow Outcome = iota
	// Denied: a deny rule; nobody passes.
	Denied
	// NoCredential: the requirement needs a credential and none was sent.
	NoCredential
	// SessionRequired: only a browser session passes.
	SessionRequired
	// AdminRequired: only a user with the administrator role passes.
	AdminRequired
	// MissingScope: the credential lacks Decision.Scope.
	MissingScope
	// InvalidResourceName: the path names no valid resource (Decision.Resource).
	InvalidResourceName
	// InsufficientRole: the effective role on Decision.Resource is below
	// the minimum (Decision.Role says why).
	InsufficientRole
	// Misconfigured: the rule cannot be applied (a role rule whose
	// placeholder was not captured); fail closed.
	Misconfigured
	// NotSelf: a self requirement, and the path names someone else
	// (Decision.Resource is the value it names).
	NotSelf
	// NoAlternative: the rule's own conditions held but none of its
	// alternatives did; Decision.Alternatives says why each failed, in
	// the rule's order.
	NoAlternative
)

// Decision is the outcome of Decide.
type Decision struct {
	Outcome Outcome
	// Identity is who the request acts as: on Allow, what to forward
	// (for a role rule, a copy carrying Resource and Role); on a refusal,
	// the caller as far as known, for logs (nil without a credential).
	Identity *Identity
	// Scope is the missing scope (MissingScope).
	Scope string
	// Resource is the resource label the path names (role rules).
	Resource string
	// Role is the role check (InsufficientRole).
	Role config.RoleCheck
	// Alternatives are the refused decisions of each alternative
	// (NoAlternative), so the refusal can name what would have passed.
	Alternatives []Decision
}

// Allowed reports whether the request may proceed.
func (d *Decision) Allowed() bool { return d.Outcome == Allow }

// Decide applies rule's requirement to id, the verified identity of the
// request (nil when it presented no credential), with the path
// placeholders the rule captured. The order answers most precisely: a
// deny rule, a missing credential, a browser-only requirement, each
// scope, self, the resource role, and last the rule's alternatives, of
// which the first that holds allows.
func Decide(id *Identity, rule *config.CompiledRule, params *config.Params) Decision {
	req := &rule.Require
	if req.Access == config.AccessDeny {
		return Decision{Outcome: Denied, Identity: id}
	}
	if id == nil || id.User == nil {
		if req.Access == config.AccessAnonymous {
			return Decision{Outcome: Allow, Identity: Anonymous}
		}
		return Decision{Outcome: NoCredential, Identity: id}
	}
	d := decideConditions(id, rule, params)
	if d.Outcome != Allow || len(rule.Alternatives) == 0 {
		return d
	}
	for _, alt := range rule.Alternatives {
		ad := decideConditions(d.Identity, alt, params)
		switch ad.Outcome {
		case Allow, Misconfigured:
			return ad
		}
	}
	// Refused: decide each again to keep why, so an allowed request
	// allocates nothing.
	failed := make([]Decision, len(rule.Alternatives))
	for i, alt := range rule.Alternatives {
		failed[i] = decideConditions(d.Identity, alt, params)
	}
	return Decision{Outcome: NoAlternative, Identity: id, Alternatives: failed}
}

// decideConditions applies what a requirement demands of a verified
// caller: a browser session, each scope, self, the resource role.
func decideConditions(id *Identity, rule *config.CompiledRule, params *config.Params) Decision {
	req := &rule.Require
	if req.Access == config.AccessSession && !id.Browser {
		return Decision{Outcome: SessionRequired, Identity: id}
	}
	if req.Admin && !id.User.Admin {
		return Decision{Outcome: AdminRequired, Identity: id}
	}
	for _, s := range req.Scopes {
		if !id.HasScope(s) {
			return Decision{Outcome: MissingScope, Identity: id, Scope: s}
		}
	}
	if req.Self != "" {
		v, ok := params.Get(req.Self)
		if !ok {
			// CompileRule guarantees the placeholder; fail closed regardless.
			return Decision{Outcome: Misconfigured, Identity: id}
		}
		// Exact: a login differing in case may be someone else upstream.
		if v != id.User.Login && v != id.User.ID {
			return Decision{Outcome: NotSelf, Identity: id, Resource: v}
		}
	}
	if req.Role == nil {
		return Decision{Outcome: Allow, Identity: id}
	}
	return decideRole(id, rule, params)
}

// decideRole applies a rule's role requirement: the effective role on the
// resource the path names is the lower of the credential's cap and the
// owner's membership as id.User holds it now. A PAT's cap is its
// ResourceCaps (nil: every resource at the membership role); a session
// has no cap. id itself may be shared and is never modified.
func decideRole(id *Identity, rule *config.CompiledRule, params *config.Params) Decision {
	name, ok := params.Get(rule.Require.Role.Param)
	if !ok {
		// CompileRule guarantees the placeholder; fail closed regardless.
		return Decision{Outcome: Misconfigured, Identity: id}
	}
	resource := ResourceLabel(rule.Require.Role.Resource, name)
	if authstore.ValidateResourceName(name) != nil {
		return Decision{Outcome: InvalidResourceName, Identity: id, Resource: resource}
	}
	var caps map[string]string
	if id.PAT != nil {
		caps = id.PAT.ResourceCaps
	}
	c, ok := config.CheckRole(rule, params, id.User.Memberships, caps)
	if !ok {
		return Decision{Outcome: Misconfigured, Identity: id}
	}
	if !c.Allowed() {
		return Decision{Outcome: InsufficientRole, Identity: id, Resource: resource, Role: c}
	}
	out := *id
	out.Resource, out.Role = resource, c.Role()
	return Decision{Outcome: Allow, Identity: &out, Resource: resource}
}

// ResourceLabel names a resource for headers, placeholders and messages:
// "project:atlas", the name percent-encoded as a URL path segment, so that
// a header stays ASCII and a client can paste it back into a path. ASCII
// letters, digits and - . _ ~ : @ are left as they are.
func ResourceLabel(typ, name string) string {
	return config.ResourceKey(typ, url.PathEscape(name))
}
