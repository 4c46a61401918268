package gate

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/decision"
	"github.com/gatehouse/gatehouse/problem"
)

// refusalOf turns a refused decision on rule into its denial; nil when
// the decision allows. endpoint says whether the thing refused is one of
// Gatehouse's own endpoints or a site's route, for the messages.
func (g *Gate) refusalOf(d *decision.Decision, rule *config.CompiledRule, endpoint bool) *problem.Problem {
	switch d.Outcome {
	case decision.Allow:
		return nil
	case decision.Denied:
		return problem.Forbidden("rule_deny", "access to this route is denied")
	case decision.NoCredential:
		return problem.Unauthenticated()
	case decision.SessionRequired:
		if endpoint {
			return problem.Forbidden("session_required", "this endpoint requires a browser session token")
		}
		return problem.Forbidden("session_required", "this route requires a browser session")
	case decision.AdminRequired:
		return problem.Forbidden("admin_required", "this needs an administrator")
	case decision.MissingScope:
		return problem.InsufficientScope(d.Scope, rule.AcceptedScopes)
	case decision.InvalidResourceName:
		return problem.BadAuthorization("invalid_resource_name", fmt.Sprintf("the path does not name a valid %s: %s (names are 1 to %d bytes of UTF-8 without / or control characters)", rule.Require.Role.Resource, d.Resource, authstore.MaxResourceNameLen))
	case decision.InsufficientRole:
		return insufficientRole(&d.Role, d.Resource)
	case decision.NotSelf:
		return &problem.Problem{Status: http.StatusForbidden, Code: "not_self", ChallengeCode: "insufficient_scope",
			Message: "forbidden: " + whyNot(d, rule), Reason: "not_self", Challenge: problem.WithCode}
	case decision.NoAlternative:
		return noAlternative(d, rule)
	}
	g.logger.Error("rule cannot be applied", zap.Int("rule", rule.Index+1), zap.String("path", rule.Path))
	return problem.Internal()
}

// insufficientRole is the 403 for an effective role below the rule's
// minimum. The JSON error is insufficient_role; the challenge uses
// RFC 6750's insufficient_scope. The message names the resource and the
// role needed and says which of the two limits is short: the membership
// (ask for a role) or the token's cap (mint a token with a higher cap).
func insufficientRole(c *config.RoleCheck, resource string) *problem.Problem {
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
	return &problem.Problem{
		Status: http.StatusForbidden, Code: "insufficient_role", ChallengeCode: "insufficient_scope",
		Message: fmt.Sprintf("insufficient role: %s needs %s; %s", resource, need, why),
		Reason:  reason, Challenge: problem.WithCode}
}

// noAlternative is the 403 for a rule none of whose alternatives held. It
// names every alternative with why it failed, so the caller sees what
// would have passed. When each failed on a scope it is RFC 6750's
// insufficient_scope with those scopes (any one would do, as
// Gatehouse-Accepted-Scopes says); otherwise insufficient_access.
func noAlternative(d *decision.Decision, rule *config.CompiledRule) *problem.Problem {
	var (
		b       strings.Builder
		missing []string
	)
	b.WriteString("insufficient access: this route accepts ")
	allScopes := true
	for i, ad := range d.Alternatives {
		if i > 0 {
			b.WriteString(" or ")
		}
		alt := rule.Alternatives[i]
		b.WriteString(alt.Require.String())
		b.WriteString(" (")
		b.WriteString(whyNot(&ad, alt))
		b.WriteString(")")
		if ad.Outcome == decision.MissingScope {
			missing = append(missing, ad.Scope)
		} else {
			allScopes = false
		}
	}
	p := &problem.Problem{Status: http.StatusForbidden, Code: "insufficient_access", ChallengeCode: "insufficient_scope",
		Message: b.String(), Challenge: problem.WithCode, Accepted: rule.AcceptedScopes, Reason: "no_alternative"}
	if allScopes {
		p.Code, p.ChallengeCode, p.Reason = "insufficient_scope", "", "insufficient_scope"
		p.Scope = strings.Join(missing, " ")
	}
	return p
}

// whyNot says in a few words why one requirement refused.
func whyNot(d *decision.Decision, rule *config.CompiledRule) string {
	switch d.Outcome {
	case decision.SessionRequired:
		return "needs a browser session"
	case decision.MissingScope:
		return "this token lacks " + d.Scope
	case decision.NotSelf:
		who := ""
		if d.Identity != nil && d.Identity.User != nil {
			who = " (" + d.Identity.User.Login + ")"
		}
		return fmt.Sprintf("only your own {%s}%s; the path names %s", rule.Require.Self, who, url.PathEscape(d.Resource))
	case decision.InvalidResourceName:
		return "the path does not name a valid " + rule.Require.Role.Resource
	case decision.InsufficientRole:
		held := d.Role.Role()
		if held == "" {
			held = "none"
		}
		return fmt.Sprintf("%s needs %s; this credential holds %s", d.Resource, d.Role.Type.Role(d.Role.Need), held)
	}
	return "refused"
}
