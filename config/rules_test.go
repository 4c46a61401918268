package config

import (
	"strings"
	"testing"
	"time"
)

func testChecks() Checks {
	return Checks{
		Rate: func(s string) (int, time.Duration, error) {
			if !strings.Contains(s, "/") {
				return 0, 0, errTest
			}
			return 1, time.Minute, nil
		},
		Prefix: func(p string) error {
			if !strings.HasSuffix(p, "_") {
				return errTest
			}
			return nil
		},
	}
}

type testErr string

func (e testErr) Error() string { return string(e) }

const errTest = testErr("invalid")

func testPolicy(t testing.TB) *Policy {
	t.Helper()
	p, err := Compile(Global{
		Scopes:    []string{"wiki:read", "papers:read", "papers:write"},
		Tiers:     []Tier{{Name: "free", Rate: "10/1m"}},
		Budgets:   []Tier{{Name: "search", Rate: "5/1m"}},
		Resources: []ResourceType{{Name: "project", Roles: []string{"read", "edit", "manage"}}},
	}, testChecks())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMatch(t *testing.T) {
	p := testPolicy(t)
	rules, err := p.CompileRules([]Rule{
		{Methods: []string{"GET"}, Path: "/api/wiki/*", Require: Requirement{Access: AccessAnonymous}},
		{Methods: []string{"GET"}, Path: "/api/papers/*", Require: Requirement{Scopes: []string{"papers:read"}}},
		{Methods: []string{"post", "PUT"}, Path: "/api/papers/*", Require: Requirement{Scopes: []string{"papers:write"}}},
		{Path: "/admin/*", Require: Requirement{Access: AccessDeny}},
		{Path: "*.secret", Require: Requirement{Access: AccessDeny}},
		{Path: "*internal*", Require: Requirement{Access: AccessDeny}},
		{Path: "/exact", Require: Requirement{Access: AccessSession}},
		{Path: "/files/*/raw", Require: Requirement{Access: AccessAnonymous}},
		{Path: "/api/projects/{project}/*", Require: Requirement{Role: &RoleRequirement{Resource: "project", Min: "edit"}}},
	}, &Requirement{Access: AccessDeny})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		method, path string
		rule         int // -1: the default
		project      string
	}{
		{"GET", "/api/wiki/page", 0, ""},
		{"HEAD", "/api/wiki/page", 0, ""},
		{"GET", "/API/Wiki/Page", 0, ""},
		{"GET", "/api/wiki", -1, ""}, // Caddy's prefix match needs the slash
		{"GET", "/api/papers/1", 1, ""},
		{"POST", "/api/papers/1", 2, ""},
		{"PATCH", "/api/papers/1", -1, ""},
		{"GET", "/admin/x", 3, ""},
		{"DELETE", "/admin/", 3, ""},
		{"GET", "//admin//x", 3, ""},
		{"GET", "/api/wiki/../../admin/x", 3, ""},
		{"GET", "/api/./wiki/x", 0, ""},
		{"GET", "/keys.secret", 4, ""},
		{"GET", "/a/internal/b", 5, ""},
		{"GET", "/exact", 6, ""},
		{"GET", "/exact/", -1, ""},
		{"GET", "/files/x/raw", 7, ""},
		{"GET", "/files/x/y/raw", -1, ""},
		{"GET", "/api/projects/atlas/tasks", 8, "atlas"},
		{"GET", "/api/projects/Atlas/tasks", 8, "Atlas"},
		{"GET", "/API/PROJECTS/atlas/x", 8, "atlas"},
		{"GET", "/api/projects/atlas", 8, "atlas"}, // a trailing /* also covers the bare resource
		{"GET", "/api/projects/", -1, ""},
		{"GET", "/api/projects//x", 8, "x"}, // cleaned to /api/projects/x, as Caddy's matcher does
		{"GET", "/api/projects/café/x", 8, "café"},
	}
	for _, tc := range cases {
		r, ps := rules.Match(tc.method, tc.path)
		if r.Index != tc.rule {
			t.Errorf("%s %s matched rule %d, want %d", tc.method, tc.path, r.Index, tc.rule)
			continue
		}
		if got, _ := ps.Get("project"); got != tc.project {
			t.Errorf("%s %s: project %q, want %q", tc.method, tc.path, got, tc.project)
		}
	}
}

func TestCompileRuleErrors(t *testing.T) {
	p := testPolicy(t)
	cases := []struct {
		rule Rule
		want string
	}{
		{Rule{Path: "/x", Require: Requirement{Scopes: []string{"nope:read"}}}, "unknown scope nope:read"},
		{Rule{Methods: []string{"FETCH"}, Path: "/x"}, "unknown method"},
		{Rule{Path: "x"}, "must start with /"},
		{Rule{Path: "/a/%2F"}, "escaped patterns"},
		{Rule{Path: "/a/[", Require: Requirement{}}, "syntax error"},
		{Rule{Path: "/x", Require: Requirement{Access: "maybe"}}, "unknown access"},
		{Rule{Path: "/x", Require: Requirement{Access: AccessAnonymous, Scopes: []string{"wiki:read"}}}, "anonymous cannot be combined"},
		{Rule{Path: "/x", Require: Requirement{Access: AccessAnonymous, Admin: true}}, "anonymous cannot be combined"},
		{Rule{Path: "/p/{project}/*", Require: Requirement{Role: &RoleRequirement{Resource: "team", Min: "edit"}}}, "unknown resource type"},
		{Rule{Path: "/p/{project}/*", Require: Requirement{Role: &RoleRequirement{Resource: "project", Min: "owner"}}}, "unknown role"},
		{Rule{Path: "/p/{id}/*", Require: Requirement{Role: &RoleRequirement{Resource: "project", Min: "edit"}}}, "needs the placeholder {project}"},
		{Rule{Path: "/p/x{project}/*"}, "whole segment"},
		{Rule{Path: "/p/{project}/{project}"}, "used twice"},
		{Rule{Path: "/x", Limit: "nope"}, "unknown budget"},
		{Rule{Path: "/e/{agent}", Require: Requirement{Self: "user"}}, "self {user}: the path /e/{agent} has no placeholder {user} (it has {agent})"},
		{Rule{Path: "/e/*", Require: Requirement{Self: "agent"}}, "has no placeholder {agent}"},
		{Rule{Path: "/x", Require: Requirement{Any: []Requirement{}}}, "any needs at least one alternative"},
		{Rule{Path: "/x", Require: Requirement{Any: []Requirement{{Access: AccessAnonymous}}}}, "alternative 1 (anonymous): an alternative cannot be anonymous"},
		{Rule{Path: "/x", Require: Requirement{Any: []Requirement{{Scopes: []string{"wiki:read"}}, {Access: AccessDeny}}}}, "alternative 2 (deny)"},
		{Rule{Path: "/x", Require: Requirement{Any: []Requirement{{Scopes: []string{"nope"}}}}}, "alternative 1 (scope nope): unknown scope nope"},
		{Rule{Path: "/x", Require: Requirement{Any: []Requirement{{Any: []Requirement{{}}}}}}, "cannot hold alternatives"},
		{Rule{Path: "/e/{agent}", Require: Requirement{Any: []Requirement{{Self: "who"}}}}, "no placeholder {who}"},
		{Rule{Path: "/x", Require: Requirement{Access: AccessAnonymous, Any: []Requirement{{}}}}, "anonymous cannot be combined"},
		{Rule{Path: "/x", Require: Requirement{Access: AccessAnonymous, Self: "x"}}, "anonymous cannot be combined"},
	}
	for _, tc := range cases {
		_, err := p.CompileRule(tc.rule)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want it to mention %q", tc.rule, err, tc.want)
		}
	}
	ok := []Rule{
		{Path: "/x", Limit: "search"},
		{Path: "/x", Limit: LimitNone},
		{Path: "/p/{id}/*", Require: Requirement{Role: &RoleRequirement{Resource: "project", Param: "id", Min: "read"}}},
		{Path: "/e/{agent}", Require: Requirement{Any: []Requirement{{Self: "agent"}, {Scopes: []string{"wiki:read"}}}}},
		{Path: "/e/{agent}", Require: Requirement{Access: AccessSession, Any: []Requirement{{Self: "agent"}}}},
	}
	for _, r := range ok {
		if _, err := p.CompileRule(r); err != nil {
			t.Errorf("%+v: %v", r, err)
		}
	}
}

// TestCompileAlternatives: alternatives compile to rules of their own,
// the accepted scopes list every way in, and the rule as written is left
// as it was.
func TestCompileAlternatives(t *testing.T) {
	p := testPolicy(t)
	in := Rule{Path: "/p/{project}/x", Require: Requirement{Scopes: []string{"wiki:read"}, Any: []Requirement{
		{Role: &RoleRequirement{Resource: "project", Min: "edit"}},
		{Scopes: []string{"papers:write", "wiki:read"}},
	}}}
	c, err := p.CompileRule(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Alternatives) != 2 || c.Alternatives[0].Require.Role.Param != "project" || c.Alternatives[0].MinRank != 1 {
		t.Fatalf("alternatives %+v", c.Alternatives)
	}
	if c.AcceptedScopes != "wiki:read papers:write" {
		t.Errorf("accepted %q", c.AcceptedScopes)
	}
	if in.Require.Any[0].Role.Param != "" || in.Require.Any[0].Access != "" {
		t.Errorf("the rule as written changed: %+v", in.Require.Any[0])
	}
	if got, want := c.Require.String(), "scope wiki:read any { role project edit } { scope papers:write wiki:read }"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	for _, tc := range []struct {
		r    Requirement
		want string
	}{
		{Requirement{}, "authenticated"},
		{Requirement{Access: AccessAuthenticated}, "authenticated"},
		{Requirement{Access: AccessSession, Scopes: []string{"a"}}, "session scope a"},
		{Requirement{Access: AccessAuthenticated, Self: "agent"}, "self {agent}"},
		{Requirement{Role: &RoleRequirement{Resource: "project", Param: "id", Min: "read"}}, "role project {id} read"},
	} {
		if got := tc.r.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.r, got, tc.want)
		}
	}
}

func TestCompileGlobal(t *testing.T) {
	p, err := Compile(Global{}, testChecks())
	if err != nil {
		t.Fatal(err)
	}
	if p.TokenPrefix != DefaultTokenPrefix || p.PATMaxDays != 365 || p.SessionTTL != 14*24*time.Hour || p.Realm != "gatehouse" {
		t.Errorf("defaults: %+v", p)
	}
	bad := []struct {
		g    Global
		want string
	}{
		{Global{Scopes: []string{"has space"}}, "RFC 6749"},
		{Global{Scopes: []string{`quo"te`}}, "RFC 6749"},
		{Global{Scopes: []string{"a,b"}}, "commas"},
		{Global{Scopes: []string{""}}, "1 to 64"},
		{Global{Scopes: []string{"a:b", "a:b"}}, "twice"},
		{Global{TokenPrefix: "nope"}, "token_prefix"},
		{Global{PATMaxDays: -1}, "pat_max_days"},
		{Global{Tiers: []Tier{{Name: "pro", Rate: "x"}}}, "tier pro"},
		{Global{Tiers: []Tier{{Name: "pro", Rate: "1/1m"}}}, "default_tier: no tier is named free"},
		{Global{Tiers: []Tier{{Name: "free", Rate: "1/1m"}}, DefaultTier: "gold"}, "default_tier gold"},
		{Global{Resources: []ResourceType{{Name: "project"}}}, "declare its roles"},
		{Global{Resources: []ResourceType{{Name: "p", Roles: []string{"a", "a"}}}}, "listed twice"},
		{Global{SessionTTL: Duration(time.Second)}, "at least 1m"},
		{Global{Registration: &Registration{}}, "at least one tier"},
		{Global{Realm: "ünïcode"}, "realm"},
		{Global{Realm: `a"b`}, "realm"},
	}
	for _, tc := range bad {
		if _, err := Compile(tc.g, testChecks()); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.g, err, tc.want)
		}
	}
}

func TestCleanPath(t *testing.T) {
	for in, want := range map[string]string{
		"/a/b":      "/a/b",
		"/a//b":     "/a/b",
		"/a/./b":    "/a/b",
		"/a/../b":   "/b",
		"/a/b/":     "/a/b/",
		"/../x":     "/x",
		"/a/.b":     "/a/.b",
		"/a/..b/":   "/a/..b/",
		"":          ".",
		"/a/b/..":   "/a",
		"/a/b/../":  "/a/",
		"/.hidden/": "/.hidden/",
	} {
		if got := CleanPath(in); got != want {
			t.Errorf("CleanPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDuration(t *testing.T) {
	var d Duration
	for in, want := range map[string]time.Duration{`"14d"`: 14 * 24 * time.Hour, `"90m"`: 90 * time.Minute, `3000000000`: 3 * time.Second} {
		if err := d.UnmarshalJSON([]byte(in)); err != nil || time.Duration(d) != want {
			t.Errorf("%s: %v %v", in, time.Duration(d), err)
		}
	}
	for _, bad := range []string{`"1x"`, `"d"`, `"-3d"`, `true`} {
		if d.UnmarshalJSON([]byte(bad)) == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	p := testPolicy(b)
	rules, _ := p.CompileRules([]Rule{
		{Methods: []string{"GET"}, Path: "/api/wiki/*", Require: Requirement{Access: AccessAnonymous}},
		{Methods: []string{"GET"}, Path: "/api/papers/*", Require: Requirement{Scopes: []string{"papers:read"}}},
		{Methods: []string{"POST", "PUT", "PATCH", "DELETE"}, Path: "/api/papers/*", Require: Requirement{Scopes: []string{"papers:write"}}},
		{Path: "/admin/*", Require: Requirement{Access: AccessDeny}},
		{Path: "/api/projects/{project}/*", Require: Requirement{Role: &RoleRequirement{Resource: "project", Min: "edit"}}},
	}, nil)
	for _, tc := range []struct{ name, method, path string }{
		{"first", "GET", "/api/wiki/page"},
		{"third", "DELETE", "/api/papers/42"},
		{"placeholder", "GET", "/api/projects/atlas/tasks/7"},
		{"default", "GET", "/somewhere/else"},
		{"unclean", "GET", "/API//papers/../papers/42"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rules.Match(tc.method, tc.path)
			}
		})
	}
}
