package config

import (
	"strings"
	"testing"
)

// TestPlaceholderMatching pins how a {name} segment captures: one whole,
// non-empty segment of the cleaned, decoded path, with its case and its
// bytes as sent; literal segments compare case-insensitively as Caddy's
// path matcher does (strings.ToLower, not Unicode folding).
func TestPlaceholderMatching(t *testing.T) {
	p := testPolicy(t)
	rules, err := p.CompileRules([]Rule{
		{Path: "/api/projects/{project}/*", Require: Requirement{Role: &RoleRequirement{Resource: "project", Min: "read"}}},
		{Path: "/exact/{project}", Require: Requirement{Role: &RoleRequirement{Resource: "project", Min: "read"}}},
		{Path: "/slash/{project}/", Require: Requirement{Role: &RoleRequirement{Resource: "project", Min: "read"}}},
		{Path: "/mid/*/{project}/x", Require: Requirement{Role: &RoleRequirement{Resource: "project", Min: "read"}}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		rule int    // index of the matching rule; -1 the default
		name string // captured {project}
	}{
		{"/api/projects/atlas/files", 0, "atlas"},
		{"/api/projects/atlas", 0, "atlas"},
		{"/api/projects/atlas/", 0, "atlas"},
		{"/api/projects/atlas/a/b/c", 0, "atlas"},
		{"/API/Projects/Atlas/x", 0, "Atlas"},        // literals fold, the value keeps its case
		{"/api/projects/été/x", 0, "été"},            // unicode value, bytes as sent
		{"/api/projects/ÉTÉ/x", 0, "ÉTÉ"},            // no case folding of values
		{"/api/projects/a b%2Fc/x", 0, "a b%2Fc"},    // a literal "%2F" (double-encoded) is data
		{"/api/projects//atlas/x", 0, "atlas"},       // cleaned first; the handler refuses non-canonical paths
		{"/api/projects/zoo/../atlas/x", 0, "atlas"}, // likewise
		{"/api/projects/", -1, ""},                   // an empty segment names nothing
		{"/api/projects", -1, ""},
		{"/api/projectſ/atlas/x", -1, ""}, // long s is not "s" to Caddy's matcher
		{"/api/projects/atlas\u212a/x", 0, "atlas\u212a"},
		{"/exact/atlas", 1, "atlas"},
		{"/exact/atlas/", -1, ""},
		{"/exact/", -1, ""},
		{"/slash/atlas/", 2, "atlas"},
		{"/slash/atlas", -1, ""},
		{"/mid/x/atlas/x", 3, "atlas"},
		{"/mid/atlas/x", -1, ""},
		{"/mid//atlas/x", -1, ""}, // cleaned to /mid/atlas/x
	} {
		rule, ps := rules.Match("GET", tc.path)
		if rule.Index != tc.rule {
			t.Errorf("%s: rule %d, want %d", tc.path, rule.Index, tc.rule)
			continue
		}
		got, ok := ps.Get("project")
		if tc.rule < 0 {
			if ok {
				t.Errorf("%s: default captured %q", tc.path, got)
			}
			continue
		}
		if !ok || got != tc.name {
			t.Errorf("%s: {project} = %q (%v), want %q", tc.path, got, ok, tc.name)
		}
	}
}

// TestNoStaleParams: a segment pattern that captured and then failed must
// not leave its values to a later rule of another kind.
func TestNoStaleParams(t *testing.T) {
	p := testPolicy(t)
	rules, err := p.CompileRules([]Rule{
		{Path: "/api/projects/{project}/x", Require: Requirement{Role: &RoleRequirement{Resource: "project", Min: "read"}}},
		{Path: "/api/*"},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rule, ps := rules.Match("GET", "/api/projects/atlas/y")
	if rule.Index != 1 {
		t.Fatalf("rule %d", rule.Index)
	}
	if v, ok := ps.Get("project"); ok {
		t.Errorf("stale capture %q", v)
	}
}

func TestLowerEqual(t *testing.T) {
	for _, tc := range []struct {
		seg, lit string
		want     bool
	}{
		{"projects", "projects", true},
		{"PROJECTS", "projects", true},
		{"Projects", "projects", true},
		{"project", "projects", false},
		{"projectz", "projects", false},
		{"projectſ", "projects", false}, // EqualFold would say true
		{"\u212aey", "key", true},       // the Kelvin sign lower-cases to k
		{"ÉTÉ", "été", true},
		{"été", "été", true},
		{"étÉx", "été", false},
		{"", "", true},
	} {
		got := lowerEqual(tc.seg, tc.lit)
		if got != tc.want {
			t.Errorf("lowerEqual(%q, %q) = %v, want %v", tc.seg, tc.lit, got, tc.want)
		}
		if ref := strings.ToLower(tc.seg) == tc.lit; got != ref {
			t.Errorf("lowerEqual(%q, %q) = %v, strings.ToLower says %v", tc.seg, tc.lit, got, ref)
		}
	}
}
