package config

import (
	"fmt"
	"strings"
	"testing"
)

var project = ResourceType{Name: "project", Roles: []string{"read", "edit", "manage"}}

func TestRankAndRole(t *testing.T) {
	for _, tc := range []struct {
		role string
		rank int
	}{{"read", 0}, {"edit", 1}, {"manage", 2}, {"", NoRole}, {"owner", NoRole}, {"READ", NoRole}} {
		if got := project.Rank(tc.role); got != tc.rank {
			t.Errorf("Rank(%q) = %d, want %d", tc.role, got, tc.rank)
		}
		if tc.rank != NoRole {
			if got := project.Role(tc.rank); got != tc.role {
				t.Errorf("Role(%d) = %q, want %q", tc.rank, got, tc.role)
			}
		}
	}
	for _, rank := range []int{NoRole, 3, Uncapped} {
		if got := project.Role(rank); got != "" {
			t.Errorf("Role(%d) = %q, want none", rank, got)
		}
	}
}

// TestEffectiveRoleEveryPair walks every pair of token cap and membership
// for a three-role type: the effective role is min(cap, membership), and
// which of the two limits it is reported right for every minimum a rule
// can demand.
func TestEffectiveRoleEveryPair(t *testing.T) {
	type capCase struct {
		name string
		caps map[string]string // nil: uncapped (session or all-resources PAT)
	}
	caps := []capCase{
		{"all", nil},
		{"not granted", map[string]string{"project:zoo": "manage"}},
		{"no resources", map[string]string{}},
		{"read", map[string]string{"project:atlas": "read"}},
		{"edit", map[string]string{"project:atlas": "edit"}},
		{"manage", map[string]string{"project:atlas": "manage"}},
		{"undeclared role", map[string]string{"project:atlas": "owner"}},
	}
	members := []struct {
		name string
		m    map[string]string
	}{
		{"none", nil},
		{"other project", map[string]string{"project:zoo": "manage"}},
		{"read", map[string]string{"project:atlas": "read"}},
		{"edit", map[string]string{"project:atlas": "edit"}},
		{"manage", map[string]string{"project:atlas": "manage"}},
		{"undeclared role", map[string]string{"project:atlas": "owner"}},
		{"other type", map[string]string{"team:atlas": "manage"}},
	}
	// want[cap][membership] is the effective role; "" is none.
	want := map[string]map[string]string{
		"all":             {"none": "", "other project": "", "read": "read", "edit": "edit", "manage": "manage", "undeclared role": "", "other type": ""},
		"not granted":     {"none": "", "other project": "", "read": "", "edit": "", "manage": "", "undeclared role": "", "other type": ""},
		"no resources":    {"none": "", "other project": "", "read": "", "edit": "", "manage": "", "undeclared role": "", "other type": ""},
		"read":            {"none": "", "other project": "", "read": "read", "edit": "read", "manage": "read", "undeclared role": "", "other type": ""},
		"edit":            {"none": "", "other project": "", "read": "read", "edit": "edit", "manage": "edit", "undeclared role": "", "other type": ""},
		"manage":          {"none": "", "other project": "", "read": "read", "edit": "edit", "manage": "manage", "undeclared role": "", "other type": ""},
		"undeclared role": {"none": "", "other project": "", "read": "", "edit": "", "manage": "", "undeclared role": "", "other type": ""},
	}
	p := testPolicy(t)
	rules := map[string]*CompiledRule{}
	for _, min := range project.Roles {
		r, err := p.CompileRule(Rule{Path: "/api/projects/{project}/*", Require: Requirement{Role: &RoleRequirement{Resource: "project", Min: min}}})
		if err != nil {
			t.Fatal(err)
		}
		rules[min] = r
	}
	for _, c := range caps {
		for _, m := range members {
			for _, min := range project.Roles {
				t.Run(fmt.Sprintf("cap %s/member %s/need %s", c.name, m.name, min), func(t *testing.T) {
					rule := rules[min]
					_, ps := (&Rules{list: []*CompiledRule{rule}}).Match("GET", "/api/projects/atlas/x")
					got, ok := CheckRole(rule, &ps, m.m, c.caps)
					if !ok {
						t.Fatal("CheckRole found no role requirement")
					}
					eff := want[c.name][m.name]
					if got.Role() != eff {
						t.Errorf("effective role %q, want %q", got.Role(), eff)
					}
					if got.Rank != EffectiveRank(got.Cap, got.Member) {
						t.Errorf("rank %d is not min(cap %d, member %d)", got.Rank, got.Cap, got.Member)
					}
					allowed := eff != "" && project.Rank(eff) >= project.Rank(min)
					if got.Allowed() != allowed {
						t.Errorf("Allowed() = %v, want %v", got.Allowed(), allowed)
					}
					memberSuffices := project.Rank(m.m["project:atlas"]) >= project.Rank(min)
					if capLimit := !allowed && memberSuffices; got.CapIsLimit() != capLimit {
						t.Errorf("CapIsLimit() = %v, want %v", got.CapIsLimit(), capLimit)
					}
					if got.Resource() != "project:atlas" || got.Name != "atlas" {
						t.Errorf("resource %q name %q", got.Resource(), got.Name)
					}
				})
			}
		}
	}
}

func TestEffectiveRankIsMin(t *testing.T) {
	ranks := []int{NoRole, 0, 1, 2, Uncapped}
	for _, c := range ranks {
		for _, m := range ranks {
			got := EffectiveRank(c, m)
			if got > c || got > m || (got != c && got != m) {
				t.Errorf("EffectiveRank(%d, %d) = %d", c, m, got)
			}
		}
	}
	// A session (uncapped) holds exactly its membership.
	for _, m := range ranks[:4] {
		if got := EffectiveRank(Uncapped, m); got != m {
			t.Errorf("uncapped with membership %d = %d", m, got)
		}
	}
}

func TestCheckRoleWithoutRequirement(t *testing.T) {
	p := testPolicy(t)
	r, err := p.CompileRule(Rule{Path: "/api/projects/{project}/*", Require: Requirement{Scopes: []string{"papers:read"}}})
	if err != nil {
		t.Fatal(err)
	}
	ps := Params{}
	if _, ok := CheckRole(r, &ps, nil, nil); ok {
		t.Error("a rule without a role requirement was checked")
	}
}

func TestCheckRoleNamedPlaceholder(t *testing.T) {
	p := testPolicy(t)
	rules, err := p.CompileRules([]Rule{{
		Path:    "/orgs/{org}/repos/{repo}/*",
		Require: Requirement{Role: &RoleRequirement{Resource: "project", Param: "repo", Min: "edit"}},
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rule, ps := rules.Match("POST", "/orgs/acme/repos/atlas/issues")
	c, ok := CheckRole(rule, &ps, map[string]string{"project:atlas": "edit", "project:acme": "read"}, nil)
	if !ok || !c.Allowed() || c.Name != "atlas" || c.Role() != "edit" {
		t.Errorf("check %+v ok=%v", c, ok)
	}
}

func TestCheckRoleDoesNotAllocate(t *testing.T) {
	p := testPolicy(t)
	rules, err := p.CompileRules([]Rule{{Path: "/api/projects/{project}/*", Require: Requirement{Role: &RoleRequirement{Resource: "project", Min: "edit"}}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	members := map[string]string{"project:atlas": "manage"}
	caps := map[string]string{"project:atlas": "edit"}
	allocs := testing.AllocsPerRun(100, func() {
		rule, ps := rules.Match("GET", "/api/projects/atlas/files")
		if c, _ := CheckRole(rule, &ps, members, caps); !c.Allowed() {
			t.Fatal("refused")
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per decision", allocs)
	}
}

func TestCompileRoleRuleErrors(t *testing.T) {
	p := testPolicy(t)
	for _, tc := range []struct {
		rule Rule
		want string
	}{
		{Rule{Path: "/api/teams/{team}/*", Require: Requirement{Role: &RoleRequirement{Resource: "team", Min: "edit"}}}, `unknown resource type "team" (declared: project)`},
		{Rule{Path: "/api/projects/{project}/*", Require: Requirement{Role: &RoleRequirement{Resource: "project", Min: "owner"}}}, `unknown role "owner" for project (roles: read < edit < manage)`},
		{Rule{Path: "/api/projects/{id}/*", Require: Requirement{Role: &RoleRequirement{Resource: "project", Min: "edit"}}}, "needs the placeholder {project}"},
		{Rule{Path: "/api/projects/{project}/*", Require: Requirement{Role: &RoleRequirement{Resource: "project", Param: "proj", Min: "edit"}}}, "needs the placeholder {proj}"},
		{Rule{Path: "/api/projects/*", Require: Requirement{Role: &RoleRequirement{Resource: "project", Min: "edit"}}}, "needs the placeholder {project}"},
		{Rule{Path: "/api/projects/{Project}/*", Require: Requirement{Role: &RoleRequirement{Resource: "project", Min: "edit"}}}, "placeholder name"},
		{Rule{Path: "/api/projects/{project}x/*", Require: Requirement{Role: &RoleRequirement{Resource: "project", Min: "edit"}}}, "whole segment"},
		{Rule{Path: "/api/projects/{project}/*", Require: Requirement{Access: AccessAnonymous, Role: &RoleRequirement{Resource: "project", Min: "edit"}}}, "anonymous cannot be combined"},
	} {
		_, err := p.CompileRule(tc.rule)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.rule.Path, err, tc.want)
		}
	}
	empty, err := Compile(Global{}, testChecks())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := empty.CompileRule(Rule{Path: "/p/{project}", Require: Requirement{Role: &RoleRequirement{Resource: "project", Min: "edit"}}}); err == nil || !strings.Contains(err.Error(), "add `resource") {
		t.Errorf("no resources declared: %v", err)
	}
}

func TestValidateResourceType(t *testing.T) {
	for _, tc := range []struct {
		rt ResourceType
		ok bool
	}{
		{project, true},
		{ResourceType{Name: "team", Roles: []string{"member"}}, true},
		{ResourceType{Name: "Team", Roles: []string{"member"}}, false},
		{ResourceType{Name: "team", Roles: nil}, false},
		{ResourceType{Name: "team", Roles: []string{"read", "read"}}, false},
		{ResourceType{Name: "team", Roles: []string{"Read"}}, false},
		{ResourceType{Name: "te:am", Roles: []string{"read"}}, false},
	} {
		if err := ValidateResourceType(tc.rt); (err == nil) != tc.ok {
			t.Errorf("%+v: %v", tc.rt, err)
		}
	}
}

func TestParseResourceCaps(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want map[string]string
		err  string
	}{
		{"project:atlas=read, project:zoo=edit", map[string]string{"project:atlas": "read", "project:zoo": "edit"}, ""},
		{"project:a=b=edit", map[string]string{"project:a=b": "edit"}, ""},
		{"project:été=read", map[string]string{"project:été": "read"}, ""},
		{"", nil, "name at least one"},
		{" , ", nil, "name at least one"},
		{"project:atlas", nil, "want type:name=role"},
		{"atlas=read", nil, "want type:name=role"},
		{"project:atlas=", nil, "want type:name=role"},
		{"=read", nil, "want type:name=role"},
		{"project:atlas=read,project:atlas=edit", nil, "given twice"},
	} {
		got, err := ParseResourceCaps(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%q: %v %v, want %v", tc.in, got, err, tc.want)
		}
	}
}

// BenchmarkRoleDecision compares matching a request on a scope rule with
// matching one on a role rule and deciding its role (min of cap and
// membership): the difference is what a role decision costs in the
// policy, before any credential work.
func BenchmarkRoleDecision(b *testing.B) {
	p := testPolicy(b)
	rules, err := p.CompileRules([]Rule{
		{Methods: []string{"GET"}, Path: "/api/papers/*", Require: Requirement{Scopes: []string{"papers:read"}}},
		{Path: "/api/projects/{project}/*", Require: Requirement{Role: &RoleRequirement{Resource: "project", Min: "edit"}}},
	}, nil)
	if err != nil {
		b.Fatal(err)
	}
	members := map[string]string{"project:atlas": "manage", "project:zoo": "read"}
	caps := map[string]string{"project:atlas": "edit"}
	b.Run("scope_match", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rules.Match("GET", "/api/papers/42")
		}
	})
	for _, tc := range []struct {
		name string
		caps map[string]string
	}{{"role_match_and_decide", nil}, {"role_match_and_decide_capped", caps}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rule, ps := rules.Match("GET", "/api/projects/atlas/tasks/7")
				if c, _ := CheckRole(rule, &ps, members, tc.caps); !c.Allowed() {
					b.Fatal("refused")
				}
			}
		})
	}
}
