package decision

import (
	"testing"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
)

// registryPolicy is the knowledge registry's catalog: bare scope names,
// as RFC 6749 allows, beside a resource:action one.
func registryPolicy(t *testing.T) *config.Policy {
	t.Helper()
	p, err := config.Compile(config.Global{
		Scopes:    []string{"read", "write", "admin", "task_history", "papers:write"},
		Resources: []config.ResourceType{{Name: "project", Roles: []string{"read", "edit", "manage"}}},
	}, config.Checks{Prefix: func(string) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDecideSelfAndAlternatives applies every new requirement form (self
// alone, alternatives of scopes, self or scope, alternatives under a
// common scope, alternatives with roles and sessions) to callers who own
// the path, do not, and hold various scopes.
func TestDecideSelfAndAlternatives(t *testing.T) {
	t.Parallel()
	p := registryPolicy(t)
	alice := &authstore.User{ID: "usr_a", Login: "alice", Memberships: map[string]string{"project:atlas": "edit"}}
	bob := &authstore.User{ID: "usr_b", Login: "bob"}
	pat := func(u *authstore.User, scopes ...string) *Identity {
		return &Identity{Credential: CredentialPAT, User: u, PAT: &authstore.PAT{ID: "tok_" + u.Login}, Scopes: scopes}
	}
	browser := &Identity{Credential: CredentialSession, User: bob, Session: &authstore.Session{ID: "ses_b"}, Browser: true}
	scope := func(s ...string) config.Requirement { return config.Requirement{Scopes: s} }
	self := config.Requirement{Self: "agent"}
	for _, tc := range []struct {
		name    string
		req     config.Requirement
		id      *Identity
		path    string
		want    Outcome
		failed  []Outcome // the alternatives' outcomes on NoAlternative
		missing string    // the missing scope on MissingScope
		role    string    // the role carried on Allow
	}{
		{"self by login", self, pat(alice), "/v1/export/alice", Allow, nil, "", ""},
		{"self by user id", self, pat(alice), "/v1/export/usr_a", Allow, nil, "", ""},
		{"self someone else", self, pat(alice), "/v1/export/bob", NotSelf, nil, "", ""},
		{"self case differs", self, pat(alice), "/v1/export/Alice", NotSelf, nil, "", ""},
		{"self no credential", self, nil, "/v1/export/alice", NoCredential, nil, "", ""},
		{"self anonymous identity", self, Anonymous, "/v1/export/alice", NoCredential, nil, "", ""},
		{"self and scope, scope missing", config.Requirement{Self: "agent", Scopes: []string{"task_history"}}, pat(alice), "/v1/export/alice", MissingScope, nil, "task_history", ""},
		{"self and scope", config.Requirement{Self: "agent", Scopes: []string{"task_history"}}, pat(alice, "task_history"), "/v1/export/alice", Allow, nil, "", ""},

		{"admin or write: admin", config.Requirement{Any: []config.Requirement{scope("admin"), scope("write")}}, pat(bob, "admin"), "/v1/export/x", Allow, nil, "", ""},
		{"admin or write: write", config.Requirement{Any: []config.Requirement{scope("admin"), scope("write")}}, pat(bob, "write"), "/v1/export/x", Allow, nil, "", ""},
		{"admin or write: read", config.Requirement{Any: []config.Requirement{scope("admin"), scope("write")}}, pat(bob, "read"), "/v1/export/x", NoAlternative, []Outcome{MissingScope, MissingScope}, "", ""},
		{"admin or write: none sent", config.Requirement{Any: []config.Requirement{scope("admin"), scope("write")}}, nil, "/v1/export/x", NoCredential, nil, "", ""},

		{"self or admin: own", config.Requirement{Any: []config.Requirement{self, scope("admin")}}, pat(alice), "/v1/export/alice", Allow, nil, "", ""},
		{"self or admin: admin", config.Requirement{Any: []config.Requirement{self, scope("admin")}}, pat(bob, "admin"), "/v1/export/alice", Allow, nil, "", ""},
		{"self or admin: neither", config.Requirement{Any: []config.Requirement{self, scope("admin")}}, pat(bob, "read"), "/v1/export/alice", NoAlternative, []Outcome{NotSelf, MissingScope}, "", ""},

		{"common scope first", config.Requirement{Scopes: []string{"read"}, Any: []config.Requirement{self, scope("admin")}}, pat(alice), "/v1/export/alice", MissingScope, nil, "read", ""},
		{"common scope and self", config.Requirement{Scopes: []string{"read"}, Any: []config.Requirement{self, scope("admin")}}, pat(alice, "read"), "/v1/export/alice", Allow, nil, "", ""},

		{"session or admin: browser", config.Requirement{Any: []config.Requirement{{Access: config.AccessSession}, scope("admin")}}, browser, "/v1/export/x", Allow, nil, "", ""},
		{"session or admin: PAT", config.Requirement{Any: []config.Requirement{{Access: config.AccessSession}, scope("admin")}}, pat(bob), "/v1/export/x", NoAlternative, []Outcome{SessionRequired, MissingScope}, "", ""},

		{"role or admin: member", config.Requirement{Any: []config.Requirement{{Role: &config.RoleRequirement{Resource: "project", Param: "agent", Min: "edit"}}, scope("admin")}}, pat(alice), "/v1/export/atlas", Allow, nil, "", "edit"},
		{"role or admin: admin", config.Requirement{Any: []config.Requirement{{Role: &config.RoleRequirement{Resource: "project", Param: "agent", Min: "edit"}}, scope("admin")}}, pat(bob, "admin"), "/v1/export/atlas", Allow, nil, "", ""},
		{"role or admin: neither", config.Requirement{Any: []config.Requirement{{Role: &config.RoleRequirement{Resource: "project", Param: "agent", Min: "manage"}}, scope("admin")}}, pat(alice), "/v1/export/atlas", NoAlternative, []Outcome{InsufficientRole, MissingScope}, "", ""},
		{"bad name, then admin", config.Requirement{Any: []config.Requirement{{Role: &config.RoleRequirement{Resource: "project", Param: "agent", Min: "read"}}, scope("admin")}}, pat(bob, "admin"), "/v1/export/a\x00b", Allow, nil, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := p.CompileRules([]config.Rule{{Path: "/v1/export/{agent}", Require: tc.req}}, &config.Requirement{Access: config.AccessDeny})
			if err != nil {
				t.Fatal(err)
			}
			rule, ps := match(t, rs, tc.path)
			d := Decide(tc.id, rule, &ps)
			if d.Outcome != tc.want {
				t.Fatalf("outcome %d, want %d", d.Outcome, tc.want)
			}
			if d.Scope != tc.missing {
				t.Errorf("missing scope %q, want %q", d.Scope, tc.missing)
			}
			if len(d.Alternatives) != len(tc.failed) {
				t.Fatalf("alternatives %+v, want outcomes %v", d.Alternatives, tc.failed)
			}
			for i, ad := range d.Alternatives {
				if ad.Outcome != tc.failed[i] {
					t.Errorf("alternative %d: outcome %d, want %d", i, ad.Outcome, tc.failed[i])
				}
			}
			if d.Outcome == Allow {
				if d.Identity.User != tc.id.User {
					t.Errorf("allowed as %+v", d.Identity)
				}
				if d.Identity.Role != tc.role {
					t.Errorf("role %q, want %q", d.Identity.Role, tc.role)
				}
			}
			if d.Outcome != Allow && tc.id != nil && d.Identity != tc.id {
				t.Errorf("a refusal names %+v, not the caller", d.Identity)
			}
		})
	}
}

// TestDecideAlternativesAllocs: a rule with alternatives costs no
// allocation when one holds (the proxy path).
func TestDecideAlternativesAllocs(t *testing.T) {
	p := registryPolicy(t)
	rs, err := p.CompileRules([]config.Rule{{Path: "/v1/export/{agent}", Require: config.Requirement{Any: []config.Requirement{{Self: "agent"}, {Scopes: []string{"admin"}}}}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rule, ps := match(t, rs, "/v1/export/bob")
	for _, id := range []*Identity{
		{Credential: CredentialPAT, User: &authstore.User{ID: "usr_b", Login: "bob"}, PAT: &authstore.PAT{}},                              // the first holds
		{Credential: CredentialPAT, User: &authstore.User{ID: "usr_c", Login: "carol"}, PAT: &authstore.PAT{}, Scopes: []string{"admin"}}, // the second
	} {
		if d := Decide(id, rule, &ps); d.Outcome != Allow {
			t.Fatalf("%s: outcome %d", id.User.Login, d.Outcome)
		}
		if n := testing.AllocsPerRun(100, func() { _ = Decide(id, rule, &ps) }); n != 0 {
			t.Errorf("%s: %v allocations", id.User.Login, n)
		}
	}
}
