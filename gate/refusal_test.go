package gate

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/decision"
	"github.com/gatehouse/gatehouse/problem"
)

// roleGate is a gate (without a store: these tests decide on identities
// they build) over a policy with a project resource type.
func roleGate(t testing.TB) *Gate {
	t.Helper()
	return New(Config{Policy: testPolicy(t, config.Global{
		Scopes:    []string{"papers:read", "papers:write"},
		Resources: []config.ResourceType{{Name: "project", Roles: []string{"read", "edit", "manage"}}},
	}), Facts: directFacts{}})
}

func roleRules(t testing.TB, g *Gate, min string) *config.Rules {
	t.Helper()
	rules, err := g.policy.CompileRules([]config.Rule{{
		Path:    "/api/projects/{project}/*",
		Require: config.Requirement{Role: &config.RoleRequirement{Resource: "project", Min: min}},
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return rules
}

// checkRole is the decision on a role rule as Admit answers it.
func checkRole(g *Gate, id *Identity, rule *config.CompiledRule, ps *config.Params) (*Identity, *problem.Problem) {
	d := decision.Decide(id, rule, ps)
	return d.Identity, g.refusalOf(&d, rule, false)
}

// TestCheckRoleCredentials covers each kind of credential: a session (no
// cap: its effective role is the membership), an all-resources PAT (the
// same), and a capped PAT (the lower of cap and membership).
func TestCheckRoleCredentials(t *testing.T) {
	t.Parallel()
	a := roleGate(t)
	rules := roleRules(t, a, "edit")
	user := &authstore.User{ID: "usr_1", Login: "alice", Memberships: map[string]string{
		"project:atlas": "manage", "project:zoo": "read", "project:été": "edit",
	}}
	session := &Identity{Credential: decision.CredentialSession, User: user, Session: &authstore.Session{ID: "ses_1"}, Browser: true}
	cli := &Identity{Credential: decision.CredentialSession, User: user, Session: &authstore.Session{ID: "ses_2", Kind: authstore.SessionCLI}}
	allPAT := &Identity{Credential: decision.CredentialPAT, User: user, PAT: &authstore.PAT{ID: "tok_all"}}
	capped := &Identity{Credential: decision.CredentialPAT, User: user, PAT: &authstore.PAT{ID: "tok_cap", ResourceCaps: map[string]string{"project:atlas": "read", "project:zoo": "manage"}}}
	noRes := &Identity{Credential: decision.CredentialPAT, User: user, PAT: &authstore.PAT{ID: "tok_none", ResourceCaps: map[string]string{}}}

	cases := []struct {
		name   string
		id     *Identity
		path   string
		role   string // effective role on success; "" means refused
		reason string
		msg    string
	}{
		{"session follows membership", session, "/api/projects/atlas/x", "manage", "", ""},
		{"cli session follows membership", cli, "/api/projects/atlas/x", "manage", "", ""},
		{"session below", session, "/api/projects/zoo/x", "", "insufficient_role", "insufficient role: project:zoo needs edit; your role is read"},
		{"session without membership", session, "/api/projects/mars/x", "", "no_membership", "insufficient role: project:mars needs edit; you have no role on it"},
		{"all PAT follows membership", allPAT, "/api/projects/atlas/x", "manage", "", ""},
		{"all PAT below", allPAT, "/api/projects/zoo/x", "", "insufficient_role", "your role is read"},
		{"unicode name", allPAT, "/api/projects/été/x", "edit", "", ""},
		{"case matters", allPAT, "/api/projects/Atlas/x", "", "no_membership", "project:Atlas needs edit"},
		{"cap below membership", capped, "/api/projects/atlas/x", "", "role_capped", "insufficient role: project:atlas needs edit; this token is capped at read there (your role is manage): the token's cap is the limit, not your membership"},
		{"cap above membership", capped, "/api/projects/zoo/x", "", "insufficient_role", "your role is read"},
		{"resource not granted", capped, "/api/projects/été/x", "", "role_capped", "this token is not granted project:%C3%A9t%C3%A9 (your role is edit): the token's cap is the limit"},
		{"no resources", noRes, "/api/projects/atlas/x", "", "role_capped", "this token is not granted project:atlas"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			before := *tc.id
			rule, ps := rules.Match("GET", tc.path)
			got, d := checkRole(a, tc.id, rule, &ps)
			if !reflect.DeepEqual(*tc.id, before) {
				t.Error("checkRole modified the identity it was given")
			}
			if tc.role != "" {
				if d != nil {
					t.Fatalf("refused: %s", d.Message)
				}
				if got == tc.id || got.Role != tc.role || !strings.HasPrefix(got.Resource, "project:") || got.User != user {
					t.Errorf("identity %+v", got)
				}
				return
			}
			if d == nil {
				t.Fatalf("allowed as %s", got.Role)
			}
			if d.Status != http.StatusForbidden || d.Code != "insufficient_role" || d.Reason != tc.reason || !strings.Contains(d.Message, tc.msg) {
				t.Errorf("denial %d %s %s %q", d.Status, d.Code, d.Reason, d.Message)
			}
		})
	}
}

// TestRoleDenialResponse checks what the client receives: 403, an RFC
// 6750 challenge with error="insufficient_scope" and an ASCII description,
// and {"error":"insufficient_role"} in the body.
func TestRoleDenialResponse(t *testing.T) {
	t.Parallel()
	a := roleGate(t)
	rules := roleRules(t, a, "manage")
	user := &authstore.User{Login: "alice", Memberships: map[string]string{"project:été": "edit"}}
	rule, ps := rules.Match("GET", "/api/projects/été/x")
	_, d := checkRole(a, &Identity{Credential: decision.CredentialSession, User: user}, rule, &ps)
	w := httptest.NewRecorder()
	problem.Write(w, "gatehouse", d)
	wa := w.Header().Get("WWW-Authenticate")
	want := `Bearer realm="gatehouse", error="insufficient_scope", error_description="insufficient role: project:%C3%A9t%C3%A9 needs manage; your role is edit"`
	if w.Code != 403 || wa != want {
		t.Errorf("%d %s\nwant %s", w.Code, wa, want)
	}
	for i := 0; i < len(wa); i++ {
		if wa[i] < 0x20 || wa[i] > 0x7e {
			t.Fatalf("challenge is not printable ASCII: %q", wa)
		}
	}
	if body := w.Body.String(); !strings.Contains(body, `"error":"insufficient_role"`) || !strings.Contains(body, "needs manage") {
		t.Errorf("body %s", body)
	}
}

func TestCheckRoleRefusesInvalidNames(t *testing.T) {
	t.Parallel()
	a := roleGate(t)
	rules := roleRules(t, a, "read")
	user := &authstore.User{Login: "alice"}
	for _, name := range []string{"a\x00b", "a\nb", "\xff", strings.Repeat("x", authstore.MaxResourceNameLen+1)} {
		rule, ps := rules.Match("GET", "/api/projects/"+name+"/x")
		_, d := checkRole(a, &Identity{Credential: decision.CredentialSession, User: user}, rule, &ps)
		if d == nil || d.Status != 400 || d.Reason != "invalid_resource_name" {
			t.Errorf("%q: %+v", name, d)
			continue
		}
		for i := 0; i < len(d.Message); i++ {
			if d.Message[i] < 0x20 || d.Message[i] > 0x7e {
				t.Errorf("%q: message is not printable ASCII: %q", name, d.Message)
				break
			}
		}
	}
}

// TestAlternativeRefusals: a refused self or alternatives rule answers
// 403 naming every alternative and why it failed; all-scope alternatives
// answer RFC 6750 insufficient_scope with the scopes any one of which
// would do.
func TestAlternativeRefusals(t *testing.T) {
	t.Parallel()
	g := New(Config{Policy: testPolicy(t, config.Global{Scopes: []string{"read", "write", "admin"}}), Facts: directFacts{}})
	bob := &Identity{Credential: decision.CredentialPAT, User: &authstore.User{ID: "usr_b", Login: "bob"}, PAT: &authstore.PAT{ID: "tok_b"}, Scopes: []string{"read"}}
	for _, tc := range []struct {
		name      string
		req       config.Requirement
		path      string
		code      string
		challenge string
		message   string
		accepted  string
	}{
		{"self", config.Requirement{Self: "agent"}, "/v1/export/alice", "not_self",
			`error="insufficient_scope"`, "forbidden: only your own {agent} (bob); the path names alice", ""},
		{"scopes", config.Requirement{Any: []config.Requirement{{Scopes: []string{"admin"}}, {Scopes: []string{"write"}}}}, "/v1/export/alice", "insufficient_scope",
			`scope="admin write"`, "insufficient access: this route accepts scope admin (this token lacks admin) or scope write (this token lacks write)", "admin write"},
		{"self or admin", config.Requirement{Any: []config.Requirement{{Self: "agent"}, {Scopes: []string{"admin"}}}}, "/v1/export/alice", "insufficient_access",
			`error="insufficient_scope"`, "insufficient access: this route accepts self {agent} (only your own {agent} (bob); the path names alice) or scope admin (this token lacks admin)", "admin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rules, err := g.policy.CompileRules([]config.Rule{{Path: "/v1/export/{agent}", Require: tc.req}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			rule, ps := rules.Match("GET", tc.path)
			d := decision.Decide(bob, rule, &ps)
			p := g.refusalOf(&d, rule, false)
			if p == nil {
				t.Fatal("allowed")
			}
			w := httptest.NewRecorder()
			problem.Write(w, "gatehouse", p)
			if w.Code != http.StatusForbidden || p.Code != tc.code || p.Message != tc.message {
				t.Errorf("%d %s %q", w.Code, p.Code, p.Message)
			}
			if ch := w.Header().Get("WWW-Authenticate"); !strings.Contains(ch, tc.challenge) {
				t.Errorf("challenge %s, want %s", ch, tc.challenge)
			}
			if got := w.Header().Get(problem.AcceptedScopesHeader); got != tc.accepted {
				t.Errorf("accepted %q, want %q", got, tc.accepted)
			}
		})
	}
}
