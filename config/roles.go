package config

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Ranks of the two ends of a role order. Ranks are positions in
// ResourceType.Roles (0 = lowest); NoRole is below every role and
// Uncapped above every role, so the effective role is a plain min().
const (
	// NoRole is the rank of holding nothing: no membership, a token not
	// granted the resource, or a role the configuration no longer declares.
	NoRole = -1
	// Uncapped is the cap of a credential that follows its owner's
	// membership: a session, or a PAT for all resources (nil caps).
	Uncapped = math.MaxInt
)

// Rank returns the position of role among t's roles (0 = lowest), or
// NoRole for "" and for a role t does not declare: a membership or cap
// whose role the operator has since removed grants nothing.
func (t ResourceType) Rank(role string) int {
	if i := slices.Index(t.Roles, role); i >= 0 {
		return i
	}
	return NoRole
}

// Role returns the name of the role at rank, or "" for NoRole and any
// rank outside the order.
func (t ResourceType) Role(rank int) string {
	if rank < 0 || rank >= len(t.Roles) {
		return ""
	}
	return t.Roles[rank]
}

// EffectiveRank is the authorization rule for resource roles: a credential
// holds the lower of its cap and its owner's current membership. Pass
// Uncapped as cap for a session or an all-resources PAT, NoRole for a
// missing membership or a resource the token was not granted.
func EffectiveRank(cap, membership int) int { return min(cap, membership) }

// ResourceKey joins a resource type and name as memberships and token caps
// key them: "project:atlas".
func ResourceKey(typ, name string) string { return typ + ":" + name }

// RoleCheck is the outcome of a rule's role requirement for one request:
// what the credential holds on the resource the path names, and why.
type RoleCheck struct {
	// Type is the resource type the rule names.
	Type ResourceType
	// Name is the resource's name, taken from the path placeholder.
	Name string
	// Need is the rank the rule demands.
	Need int
	// Member is the owner's current membership rank (NoRole: none), and
	// MemberRole the role as stored ("" when there is no membership).
	Member     int
	MemberRole string
	// Cap is the token's cap rank: Uncapped for sessions and all-resources
	// PATs, NoRole when the token is not granted the resource. CapRole is
	// the cap as stored ("" when uncapped or not granted).
	Cap     int
	CapRole string
	// Rank is the effective rank, EffectiveRank(Cap, Member).
	Rank int
}

// Allowed reports whether the effective role reaches the rule's minimum.
func (c *RoleCheck) Allowed() bool { return c.Rank >= c.Need && c.Rank != NoRole }

// CapIsLimit reports a refusal that the token's cap causes while the
// membership alone would have allowed it: the fix is a new token, not a
// new membership.
func (c *RoleCheck) CapIsLimit() bool { return c.Cap < c.Need && c.Member >= c.Need }

// Resource is the resource's key, "project:atlas".
func (c *RoleCheck) Resource() string { return ResourceKey(c.Type.Name, c.Name) }

// Role is the effective role's name ("" when none).
func (c *RoleCheck) Role() string { return c.Type.Role(c.Rank) }

// CheckRole evaluates rule's role requirement against the resource its
// placeholder captured in params, the owner's current memberships, and
// the credential's caps (nil: uncapped, for sessions and all-resources
// PATs; a non-nil map grants only the resources it names, an empty one
// none). ok is false when the rule has no role requirement or params lack
// its placeholder; callers refuse the request then.
func CheckRole(rule *CompiledRule, params *Params, memberships, caps map[string]string) (c RoleCheck, ok bool) {
	req := rule.Require.Role
	if req == nil {
		return c, false
	}
	name, ok := params.Get(req.Param)
	if !ok {
		return c, false
	}
	c = RoleCheck{Type: rule.roleType, Name: name, Need: rule.MinRank, Cap: Uncapped}
	// The key is built on the stack: a map index with string(bytes) does
	// not allocate, which keeps the decision allocation-free.
	var buf [160]byte
	key := append(append(append(buf[:0], c.Type.Name...), ':'), name...)
	c.MemberRole = memberships[string(key)]
	c.Member = c.Type.Rank(c.MemberRole)
	if caps != nil {
		c.CapRole = caps[string(key)]
		c.Cap = c.Type.Rank(c.CapRole)
	}
	c.Rank = EffectiveRank(c.Cap, c.Member)
	return c, true
}

// CheckRoleName reports whether role is declared for resource type typ,
// naming the declared types or roles when it is not.
func (p *Policy) CheckRoleName(typ, role string) error {
	rt, ok := p.Resources[typ]
	if !ok {
		return p.unknownResourceType(typ)
	}
	if rt.Rank(role) == NoRole {
		return fmt.Errorf("unknown role %q for %s (roles: %s)", role, typ, strings.Join(rt.Roles, " < "))
	}
	return nil
}

func (p *Policy) unknownResourceType(typ string) error {
	declared := strings.Join(sortedKeys(p.Resources), ", ")
	if declared == "" {
		declared = "none; add `resource <type> <roles…>` to the gatehouse global option"
	}
	return fmt.Errorf("unknown resource type %q (declared: %s)", typ, declared)
}

// ValidateResourceType checks a resource type's declaration: a name of
// a-z 0-9 _ - and at least one role, each such a name, none twice.
func ValidateResourceType(r ResourceType) error { return validateResourceType(r) }

// ParseResourceCaps reads token caps written as `type:name=role` items
// separated by commas ("project:atlas=read,project:zoo=edit"), the form
// of `token create --resources` and of PAT forms. It checks only the
// shape; Policy.CheckRoleName and the store's name rules check the rest.
// A name containing a comma cannot be written this way; use the JSON API.
// A spec naming nothing is an error, never an empty (no-resource) map.
func ParseResourceCaps(spec string) (map[string]string, error) {
	caps := map[string]string{}
	for item := range strings.SplitSeq(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		// Roles never contain '=', so the last one separates the role.
		i := strings.LastIndexByte(item, '=')
		if i <= 0 || i == len(item)-1 || !strings.Contains(item[:i], ":") {
			return nil, fmt.Errorf("resource cap %q: want type:name=role", item)
		}
		key := item[:i]
		if _, dup := caps[key]; dup {
			return nil, fmt.Errorf("resource cap %q: %s given twice", item, key)
		}
		caps[key] = item[i+1:]
	}
	if len(caps) == 0 {
		// An empty map means "no resource at all"; that must be asked for
		// explicitly, not be the result of a blank field.
		return nil, fmt.Errorf("resource caps %q: name at least one type:name=role", spec)
	}
	return caps, nil
}
