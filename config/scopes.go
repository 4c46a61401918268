package config

import (
	"fmt"
	"slices"
	"strings"
)

// ValidateScope checks the `resource:action` shape: two names of a-z 0-9 _ -
// joined by one colon.
func ValidateScope(s string) error {
	res, act, ok := strings.Cut(s, ":")
	if !ok || validateName(res) != nil || act == "" || len(act) > 32 || strings.ContainsFunc(act, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-')
	}) {
		return fmt.Errorf("scope %q: must look like resource:action (a-z, 0-9, _ and -)", s)
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
