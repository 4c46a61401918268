package decision

import (
	"reflect"
	"testing"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
)

func testPolicy(t *testing.T) *config.Policy {
	t.Helper()
	p, err := config.Compile(config.Global{
		Scopes:    []string{"papers:read", "papers:write", "wiki:read"},
		Resources: []config.ResourceType{{Name: "project", Roles: []string{"read", "edit", "manage"}}},
	}, config.Checks{Prefix: func(string) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// compile makes a one-rule list that denies everything else.
func compile(t *testing.T, p *config.Policy, path string, req config.Requirement) *config.Rules {
	t.Helper()
	rs, err := p.CompileRules([]config.Rule{{Path: path, Require: req}}, &config.Requirement{Access: config.AccessDeny})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// match returns the rule that path matches, which must be the list's one
// rule, with its placeholders.
func match(t *testing.T, rules *config.Rules, path string) (*config.CompiledRule, config.Params) {
	t.Helper()
	rule, ps := rules.Match("GET", path)
	if rule.Index != 0 {
		t.Fatalf("%s matches no rule", path)
	}
	return rule, ps
}

// TestDecideMatrix applies every kind of requirement to every kind of
// caller: no credential, the anonymous identity, a PAT, a CLI session and
// a browser session.
func TestDecideMatrix(t *testing.T) {
	t.Parallel()
	p := testPolicy(t)
	alice := &authstore.User{ID: "usr_1", Login: "alice", Memberships: map[string]string{"project:atlas": "edit"}}
	ids := []*Identity{
		nil,
		Anonymous,
		{Credential: CredentialPAT, User: alice, PAT: &authstore.PAT{ID: "tok_1"}, Scopes: []string{"papers:read"}},
		{Credential: CredentialSession, User: alice, Session: &authstore.Session{ID: "ses_1"}, Scopes: []string{"papers:read", "papers:write"}},
		{Credential: CredentialSession, User: alice, Session: &authstore.Session{ID: "ses_2"}, Browser: true, Scopes: []string{"papers:read", "papers:write"}},
	}
	const (
		A = Allow
		D = Denied
		N = NoCredential
		S = SessionRequired
		M = MissingScope
		R = InsufficientRole
		X = AdminRequired
	)
	role := func(min string) *config.RoleRequirement {
		return &config.RoleRequirement{Resource: "project", Min: min}
	}
	for _, tc := range []struct {
		name string
		req  config.Requirement
		want [5]Outcome // nil, anonymous, PAT, CLI session, browser session
	}{
		{"anonymous", config.Requirement{Access: config.AccessAnonymous}, [5]Outcome{A, A, A, A, A}},
		{"authenticated", config.Requirement{Access: config.AccessAuthenticated}, [5]Outcome{N, N, A, A, A}},
		{"session", config.Requirement{Access: config.AccessSession}, [5]Outcome{N, N, S, S, A}},
		{"deny", config.Requirement{Access: config.AccessDeny}, [5]Outcome{D, D, D, D, D}},
		{"scope held by all", config.Requirement{Scopes: []string{"papers:read"}}, [5]Outcome{N, N, A, A, A}},
		{"scope held by sessions", config.Requirement{Scopes: []string{"papers:write"}}, [5]Outcome{N, N, M, A, A}},
		{"two scopes", config.Requirement{Scopes: []string{"papers:read", "wiki:read"}}, [5]Outcome{N, N, M, M, M}},
		{"session and scope", config.Requirement{Access: config.AccessSession, Scopes: []string{"papers:write"}}, [5]Outcome{N, N, S, S, A}},
		{"role met", config.Requirement{Role: role("edit")}, [5]Outcome{N, N, A, A, A}},
		{"role not met", config.Requirement{Role: role("manage")}, [5]Outcome{N, N, R, R, R}},
		{"scope before role", config.Requirement{Scopes: []string{"papers:write"}, Role: role("manage")}, [5]Outcome{N, N, M, R, R}},
		{"admin, alice is not one", config.Requirement{Admin: true}, [5]Outcome{N, N, X, X, X}},
		{"session before admin", config.Requirement{Access: config.AccessSession, Admin: true}, [5]Outcome{N, N, S, S, X}},
		{"admin before scope", config.Requirement{Admin: true, Scopes: []string{"wiki:read"}}, [5]Outcome{N, N, X, X, X}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rule, ps := match(t, compile(t, p, "/api/projects/{project}/*", tc.req), "/api/projects/atlas/x")
			for i, id := range ids {
				var before Identity
				if id != nil {
					before = *id
				}
				d := Decide(id, rule, &ps)
				if d.Outcome != tc.want[i] {
					t.Errorf("caller %d: outcome %d, want %d", i, d.Outcome, tc.want[i])
				}
				if id != nil && !reflect.DeepEqual(*id, before) {
					t.Errorf("caller %d: Decide modified the identity", i)
				}
				switch {
				case d.Outcome == Allow && id == nil && d.Identity != Anonymous:
					t.Errorf("caller %d: allowed without a credential as %+v", i, d.Identity)
				case d.Outcome == Allow && id != nil && id.User != nil && d.Identity.User != id.User:
					t.Errorf("caller %d: allowed as someone else", i)
				}
			}
		})
	}
}

// TestDecideRole covers each kind of credential on a role rule: a
// session (no cap: its effective role is the membership), an
// all-resources PAT (the same), and a capped PAT (the lower of cap and
// membership).
func TestDecideRole(t *testing.T) {
	t.Parallel()
	p := testPolicy(t)
	rules := compile(t, p, "/api/projects/{project}/*", config.Requirement{Role: &config.RoleRequirement{Resource: "project", Min: "edit"}})
	user := &authstore.User{ID: "usr_1", Login: "alice", Memberships: map[string]string{
		"project:atlas": "manage", "project:zoo": "read", "project:été": "edit",
	}}
	session := &Identity{Credential: CredentialSession, User: user, Browser: true}
	allPAT := &Identity{Credential: CredentialPAT, User: user, PAT: &authstore.PAT{ID: "tok_all"}}
	capped := &Identity{Credential: CredentialPAT, User: user, PAT: &authstore.PAT{ID: "tok_cap", ResourceCaps: map[string]string{"project:atlas": "read", "project:zoo": "manage"}}}
	none := &Identity{Credential: CredentialPAT, User: user, PAT: &authstore.PAT{ID: "tok_none", ResourceCaps: map[string]string{}}}
	for _, tc := range []struct {
		name     string
		id       *Identity
		path     string
		outcome  Outcome
		role     string // effective role (allowed) or the role check's (refused)
		resource string
	}{
		{"session follows membership", session, "/api/projects/atlas/x", Allow, "manage", "project:atlas"},
		{"session below", session, "/api/projects/zoo/x", InsufficientRole, "read", "project:zoo"},
		{"session without membership", session, "/api/projects/mars/x", InsufficientRole, "", "project:mars"},
		{"all PAT follows membership", allPAT, "/api/projects/atlas/x", Allow, "manage", "project:atlas"},
		{"unicode name", allPAT, "/api/projects/été/x", Allow, "edit", "project:%C3%A9t%C3%A9"},
		{"case matters", allPAT, "/api/projects/Atlas/x", InsufficientRole, "", "project:Atlas"},
		{"cap below membership", capped, "/api/projects/atlas/x", InsufficientRole, "read", "project:atlas"},
		{"cap above membership", capped, "/api/projects/zoo/x", InsufficientRole, "read", "project:zoo"},
		{"resource not granted", capped, "/api/projects/été/x", InsufficientRole, "", "project:%C3%A9t%C3%A9"},
		{"no resources", none, "/api/projects/atlas/x", InsufficientRole, "", "project:atlas"},
		{"invalid name", session, "/api/projects/a\x00b/x", InvalidResourceName, "", "project:a%00b"},
		{"invalid UTF-8", session, "/api/projects/\xff/x", InvalidResourceName, "", "project:%FF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rule, ps := match(t, rules, tc.path)
			d := Decide(tc.id, rule, &ps)
			if d.Outcome != tc.outcome || d.Resource != tc.resource {
				t.Fatalf("outcome %d resource %q, want %d %q", d.Outcome, d.Resource, tc.outcome, tc.resource)
			}
			switch d.Outcome {
			case Allow:
				if d.Identity == tc.id || d.Identity.Role != tc.role || d.Identity.Resource != tc.resource {
					t.Errorf("identity %+v", d.Identity)
				}
			case InsufficientRole:
				if d.Role.Role() != tc.role {
					t.Errorf("effective role %q, want %q", d.Role.Role(), tc.role)
				}
			}
		})
	}
}

// TestDecideAdmin: the administrator role passes an admin requirement
// with every kind of credential the rule's access allows, and only the
// user's current role counts (a PAT minted while the user was an
// administrator stops passing when the role is taken away).
func TestDecideAdmin(t *testing.T) {
	t.Parallel()
	admin := &authstore.User{ID: "usr_a", Login: "root", Admin: true}
	former := &authstore.User{ID: "usr_b", Login: "former"}
	for _, tc := range []struct {
		name string
		rule *config.CompiledRule
		id   *Identity
		want Outcome
	}{
		{"console, admin browser", config.AdminRule(), &Identity{Credential: CredentialSession, User: admin, Browser: true}, Allow},
		{"console, admin PAT", config.AdminRule(), &Identity{Credential: CredentialPAT, User: admin, PAT: &authstore.PAT{}}, SessionRequired},
		{"console, admin CLI session", config.AdminRule(), &Identity{Credential: CredentialSession, User: admin}, SessionRequired},
		{"console, non-admin browser", config.AdminRule(), &Identity{Credential: CredentialSession, User: former, Browser: true}, AdminRequired},
		{"console, nobody", config.AdminRule(), nil, NoCredential},
		{"console, anonymous", config.AdminRule(), Anonymous, NoCredential},
		{"admin route, admin PAT", &config.CompiledRule{Require: config.Requirement{Access: config.AccessAuthenticated, Admin: true}}, &Identity{Credential: CredentialPAT, User: admin, PAT: &authstore.PAT{}}, Allow},
		{"admin route, former admin's PAT", &config.CompiledRule{Require: config.Requirement{Access: config.AccessAuthenticated, Admin: true}}, &Identity{Credential: CredentialPAT, User: former, PAT: &authstore.PAT{}}, AdminRequired},
	} {
		if d := Decide(tc.id, tc.rule, &config.Params{}); d.Outcome != tc.want {
			t.Errorf("%s: outcome %d, want %d", tc.name, d.Outcome, tc.want)
		}
	}
}

// TestDecideMisconfigured: a role rule applied without its placeholder
// fails closed.
func TestDecideMisconfigured(t *testing.T) {
	t.Parallel()
	p := testPolicy(t)
	rule, _ := match(t, compile(t, p, "/api/projects/{project}/*", config.Requirement{Role: &config.RoleRequirement{Resource: "project", Min: "read"}}), "/api/projects/atlas/x")
	id := &Identity{Credential: CredentialSession, User: &authstore.User{Login: "a"}}
	if d := Decide(id, rule, &config.Params{}); d.Outcome != Misconfigured {
		t.Errorf("outcome %d", d.Outcome)
	}
}

func TestEffectiveScopes(t *testing.T) {
	t.Parallel()
	catalog := []string{"a", "b", "c"}
	for _, tc := range []struct {
		name      string
		want      []string
		userHolds []string // nil: every scope
		out       []string
	}{
		{"all held", []string{"a", "b"}, nil, []string{"a", "b"}},
		{"owner lost one", []string{"a", "b"}, []string{"a"}, []string{"a"}},
		{"catalog dropped one", []string{"a", "z"}, nil, []string{"a"}},
		{"none left", []string{"b"}, []string{"a"}, []string{}},
	} {
		u := &authstore.User{Scopes: tc.userHolds}
		if got := EffectiveScopes(tc.want, u, catalog); !reflect.DeepEqual(got, tc.out) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.out)
		}
	}
	if got := UserScopes(&authstore.User{}, catalog); !reflect.DeepEqual(got, catalog) {
		t.Errorf("UserScopes of an unrestricted user: %v", got)
	}
}
