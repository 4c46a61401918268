package caddymodule

import (
	"fmt"
	"net/http"
	"net/url"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
)

// checkRole applies a rule's role requirement to an authenticated
// request: the effective role on the resource the path names is the lower
// of the credential's cap and the owner's membership as the store holds
// it now (id.User comes from the user cache, which every membership write
// invalidates before it returns). A PAT's cap is its ResourceCaps (nil:
// every resource at the membership role); any other credential (browser
// or CLI session) has no cap, so its effective role is the membership.
//
// On success it returns a copy of id carrying the resource and role for
// forward(); id itself may be shared and is never modified.
func (a *App) checkRole(id *Identity, rule *config.CompiledRule, params *config.Params) (*Identity, *denial) {
	if id == nil || id.User == nil {
		return id, unauthenticated()
	}
	req := rule.Require.Role
	name, ok := params.Get(req.Param)
	if !ok {
		// CompileRule guarantees the placeholder; fail closed regardless.
		a.logger.Error("role rule matched without its placeholder", zap.Int("rule", rule.Index+1), zap.String("placeholder", req.Param))
		return id, internalError()
	}
	resource := resourceLabel(req.Resource, name)
	if err := authstore.ValidateResourceName(name); err != nil {
		return id, badRequest("invalid_resource_name", fmt.Sprintf("the path does not name a valid %s: %s (names are 1 to %d bytes of UTF-8 without / or control characters)", req.Resource, resource, authstore.MaxResourceNameLen))
	}
	var caps map[string]string
	if id.PAT != nil {
		caps = id.PAT.ResourceCaps
	}
	c, ok := config.CheckRole(rule, params, id.User.Memberships, caps)
	if !ok {
		return id, internalError()
	}
	if !c.Allowed() {
		return id, insufficientRole(&c, resource)
	}
	out := *id
	out.Resource, out.Role = resource, c.Role()
	return &out, nil
}

// resourceLabel names a resource for headers, placeholders and messages:
// "project:atlas", the name percent-encoded as a URL path segment, so that
// a header stays ASCII and a client can paste it back into a path. ASCII
// letters, digits and - . _ ~ : @ are left as they are.
func resourceLabel(typ, name string) string {
	return config.ResourceKey(typ, url.PathEscape(name))
}

// insufficientRole is the 403 for an effective role below the rule's
// minimum. The JSON error is insufficient_role; the challenge uses
// RFC 6750's insufficient_scope. The message names the resource and the
// role needed and says which of the two limits is short: the membership
// (ask for a role) or the token's cap (mint a token with a higher cap).
func insufficientRole(c *config.RoleCheck, resource string) *denial {
	need := c.Type.Role(c.Need)
	var why, reason string
	switch {
	case c.CapIsLimit():
		reason = "role_capped"
		switch {
		case c.CapRole == "":
			why = "this token is not granted " + resource
		case c.Cap == config.NoRole:
			why = fmt.Sprintf("this token's cap %s is not a declared %s role", c.CapRole, c.Type.Name)
		default:
			why = "this token is capped at " + c.CapRole + " there"
		}
		why += fmt.Sprintf(" (your role is %s): the token's cap is the limit, not your membership", c.MemberRole)
	case c.MemberRole == "":
		reason, why = "no_membership", "you have no role on it"
	case c.Member == config.NoRole:
		reason, why = "insufficient_role", fmt.Sprintf("your role %s is not a declared %s role", c.MemberRole, c.Type.Name)
	default:
		reason, why = "insufficient_role", "your role is "+c.MemberRole
	}
	return &denial{
		status: http.StatusForbidden, code: "insufficient_role", challengeCode: "insufficient_scope",
		message:   fmt.Sprintf("insufficient role: %s needs %s; %s", resource, need, why),
		challenge: true, withCode: true, reason: reason,
	}
}
