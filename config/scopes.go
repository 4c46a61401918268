package config

import (
	"fmt"
	"slices"
	"strings"
)

// MaxScopeLen bounds a declared scope name, so a header listing a
// caller's scopes stays small.
const MaxScopeLen = 64

// ValidateScope checks a declared scope name: an RFC 6749 §3.3
// scope-token (printable ASCII other than space, `"` and `\`), so the
// reference APIs' `read`, `admin` and `task_history` can be declared as
// they are, as can `resource:action` names. A comma is refused too:
// scope lists typed on a command line or in a form (ParseScopeList) are
// separated by commas or spaces, and a name holding one could not be
// written there.
func ValidateScope(s string) error {
	if s == "" || len(s) > MaxScopeLen {
		return fmt.Errorf("scope %q: must be 1 to %d characters", s, MaxScopeLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' || c == ',' {
			return fmt.Errorf("scope %q: must be printable ASCII without spaces, quotes, backslashes or commas (RFC 6749 §3.3)", s)
		}
	}
	return nil
}

// CheckScopes returns an error naming every scope not in the catalog.
func (p *Policy) CheckScopes(scopes []string) error {
	var unknown []string
	for _, s := range scopes {
		if !slices.Contains(p.Scopes, s) {
			unknown = append(unknown, s)
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("unknown scope %s (declared: %s)", strings.Join(unknown, ", "), strings.Join(p.Scopes, " "))
	}
	return nil
}

// ParseScopeList splits a comma- or space-separated scope list, dropping
// empty items and duplicates, keeping order.
func ParseScopeList(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}
