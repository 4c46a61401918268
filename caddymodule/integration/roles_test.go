package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// rolesGlobal declares one resource type with three ordered roles.
const rolesGlobal = defaultGlobal + `
resource project read edit manage`

// rolesSite: reading a project needs read, a paper write needs the
// papers:write scope and edit, anything else under a project edit, and
// the admin area manage on the project named by {p}.
const rolesSite = `rule GET /api/projects/{project}/* role project read
rule POST /api/projects/{project}/papers/* scope papers:write role project edit
rule * /api/projects/{project}/* role project edit
rule DELETE /api/admin/{p}/* role project {p} manage
rule GET /api/wiki/* anonymous
default authenticated`

func newRolesGateway(t *testing.T) *gateway {
	t.Helper()
	return newGateway(t, setup{global: rolesGlobal, site: rolesSite})
}

// mintCapped creates a PAT with resource caps (nil: all resources).
func (g *gateway) mintCapped(login string, caps map[string]string, scopes ...string) string {
	g.t.Helper()
	var resp struct {
		Token string `json:"token"`
	}
	req := map[string]any{"user": login, "name": "roles", "scopes": scopes, "expires_days": 30}
	if caps != nil {
		req["resources"] = caps
	}
	if code := g.admin("POST", "/gatehouse/tokens", req, &resp); code != http.StatusCreated {
		g.t.Fatalf("minting a capped token for %s: HTTP %d", login, code)
	}
	return resp.Token
}

// setMember gives login a role through the admin API ("" removes it).
func (g *gateway) setMember(login, typ, name, role string) {
	g.t.Helper()
	method, body := "PUT", map[string]string{"user": login, "type": typ, "name": name, "role": role}
	if role == "" {
		method = "DELETE"
		delete(body, "role")
	}
	if code := g.admin(method, "/gatehouse/members", body, nil); code != http.StatusOK {
		g.t.Fatalf("%s membership %s %s:%s %s: HTTP %d", method, login, typ, name, role, code)
	}
}

// roleOutcome is what a client and the upstream saw for one request.
type roleOutcome struct {
	status    int
	errCode   string
	message   string
	challenge string
	resource  string // Gatehouse-Resource at the upstream
	role      string // Gatehouse-Role at the upstream
	reached   bool
}

func (g *gateway) roleRequest(method, path, tok string, extra ...string) roleOutcome {
	g.t.Helper()
	before := g.upstream.hitCount()
	headers := extra
	if tok != "" {
		headers = append([]string{"Authorization: Bearer " + tok}, extra...)
	}
	resp, body := g.do(method, path, nil, headers...)
	o := roleOutcome{status: resp.StatusCode, challenge: resp.Header.Get("WWW-Authenticate"), reached: g.upstream.hitCount() > before}
	if resp.StatusCode >= 400 {
		var e struct{ Error, Message string }
		json.Unmarshal(body, &e)
		o.errCode, o.message = e.Error, e.Message
	} else if o.reached {
		up := g.upstream.lastRequest()
		o.resource, o.role = up.Header.Get("Gatehouse-Resource"), up.Header.Get("Gatehouse-Role")
	}
	return o
}

// wantAllowed checks a request reached the upstream with the resource
// and effective role.
func (o roleOutcome) wantAllowed(t *testing.T, resource, role string) {
	t.Helper()
	if o.status != 200 || !o.reached {
		t.Fatalf("refused: %d %s %q", o.status, o.errCode, o.message)
	}
	if o.resource != resource || o.role != role {
		t.Errorf("upstream got Gatehouse-Resource %q, Gatehouse-Role %q; want %q, %q", o.resource, o.role, resource, role)
	}
}

// wantRoleDenied checks the 403 insufficient_role answer.
func (o roleOutcome) wantRoleDenied(t *testing.T, msg string) {
	t.Helper()
	if o.status != 403 || o.errCode != "insufficient_role" || o.reached {
		t.Fatalf("got %d %q (upstream reached %v), want 403 insufficient_role; message %q", o.status, o.errCode, o.reached, o.message)
	}
	if !strings.Contains(o.challenge, `error="insufficient_scope"`) || !strings.Contains(o.challenge, `error_description="insufficient role: `) {
		t.Errorf("challenge %q", o.challenge)
	}
	if !strings.Contains(o.message, msg) {
		t.Errorf("message %q does not say %q", o.message, msg)
	}
}

// TestRolesProjectLimitedPAT: a PAT capped to one project works there, at
// no more than its cap, and nowhere else, whatever its owner holds.
func TestRolesProjectLimitedPAT(t *testing.T) {
	g := newRolesGateway(t)
	g.addUser("alice")
	g.setMember("alice", "project", "atlas", "manage")
	g.setMember("alice", "project", "zoo", "manage")
	atlasEdit := g.mintCapped("alice", map[string]string{"project:atlas": "edit"}, "papers:read")
	atlasRead := g.mintCapped("alice", map[string]string{"project:atlas": "read"}, "papers:read")

	g.roleRequest("GET", "/api/projects/atlas/tasks", atlasEdit).wantAllowed(t, "project:atlas", "edit")
	g.roleRequest("PUT", "/api/projects/atlas/tasks/1", atlasEdit).wantAllowed(t, "project:atlas", "edit")
	g.roleRequest("GET", "/api/projects/zoo/tasks", atlasEdit).wantRoleDenied(t,
		"insufficient role: project:zoo needs read; this token is not granted project:zoo (your role is manage): the token's cap is the limit, not your membership")
	g.roleRequest("DELETE", "/api/admin/atlas/x", atlasEdit).wantRoleDenied(t,
		"project:atlas needs manage; this token is capped at edit there (your role is manage): the token's cap is the limit")

	g.roleRequest("GET", "/api/projects/atlas/tasks", atlasRead).wantAllowed(t, "project:atlas", "read")
	g.roleRequest("PATCH", "/api/projects/atlas/tasks/1", atlasRead).wantRoleDenied(t,
		"project:atlas needs edit; this token is capped at read there (your role is manage)")

	// Routes without a role rule are unaffected, and carry no role headers.
	o := g.roleRequest("GET", "/elsewhere", atlasRead)
	if o.status != 200 || o.resource != "" || o.role != "" {
		t.Errorf("route without a role: %+v", o)
	}
	// A client cannot forge the role headers.
	o = g.roleRequest("GET", "/elsewhere", atlasRead, "Gatehouse-Resource: project:zoo", "Gatehouse-Role: manage")
	if o.resource != "" || o.role != "" {
		t.Errorf("forged role headers reached the upstream: %+v", o)
	}
	o = g.roleRequest("GET", "/api/projects/atlas/x", atlasRead, "Gatehouse-Role: manage")
	o.wantAllowed(t, "project:atlas", "read")

	// Without a credential, a role route asks for one.
	if o := g.roleRequest("GET", "/api/projects/atlas/x", ""); o.status != 401 || o.reached {
		t.Errorf("no credential: %+v", o)
	}
	g.assertNotLogged(atlasEdit, atlasRead)
}

// TestRolesFollowLiveMembership: an all-resources PAT holds its owner's
// current role; a downgrade or a removal changes the very next request.
func TestRolesFollowLiveMembership(t *testing.T) {
	g := newRolesGateway(t)
	g.addUser("bob")
	all := g.mintCapped("bob", nil, "papers:read", "papers:write")
	capped := g.mintCapped("bob", map[string]string{"project:atlas": "edit"}, "papers:read")

	g.roleRequest("GET", "/api/projects/atlas/x", all).wantRoleDenied(t, "insufficient role: project:atlas needs read; you have no role on it")

	g.setMember("bob", "project", "atlas", "manage")
	g.roleRequest("DELETE", "/api/admin/atlas/x", all).wantAllowed(t, "project:atlas", "manage")
	g.roleRequest("PUT", "/api/projects/atlas/x", capped).wantAllowed(t, "project:atlas", "edit")

	// Downgrade through the CLI, as an operator would, while Caddy runs.
	if _, stderr, err := g.caddy("gatehouse", "member", "set", "bob", "project", "atlas", "read"); err != nil || !strings.Contains(stderr, "bob is now read on project:atlas (was manage)") {
		t.Fatalf("member set: %v %s", err, stderr)
	}
	g.roleRequest("DELETE", "/api/admin/atlas/x", all).wantRoleDenied(t, "project:atlas needs manage; your role is read")
	g.roleRequest("PUT", "/api/projects/atlas/x", all).wantRoleDenied(t, "needs edit; your role is read")
	// The capped token's cap (edit) is above the membership now, so the
	// membership is named as the limit.
	g.roleRequest("PUT", "/api/projects/atlas/x", capped).wantRoleDenied(t, "needs edit; your role is read")
	g.roleRequest("GET", "/api/projects/atlas/x", all).wantAllowed(t, "project:atlas", "read")
	g.roleRequest("GET", "/api/projects/atlas/x", capped).wantAllowed(t, "project:atlas", "read")

	// Upgrade again: the capped token stops at its cap.
	g.setMember("bob", "project", "atlas", "manage")
	g.roleRequest("DELETE", "/api/admin/atlas/x", capped).wantRoleDenied(t, "capped at edit")
	g.roleRequest("DELETE", "/api/admin/atlas/x", all).wantAllowed(t, "project:atlas", "manage")

	// Removal.
	if _, stderr, err := g.caddy("gatehouse", "member", "remove", "bob", "project", "atlas"); err != nil || !strings.Contains(stderr, "no longer has a role on project:atlas (was manage)") {
		t.Fatalf("member remove: %v %s", err, stderr)
	}
	for _, tok := range []string{all, capped} {
		g.roleRequest("GET", "/api/projects/atlas/x", tok).wantRoleDenied(t, "you have no role on it")
	}

	// Every change is in the audit trail.
	var events []struct{ Action, Detail string }
	g.admin("GET", "/gatehouse/audit?user=bob", nil, &events)
	var changes []string
	for _, e := range events {
		if e.Action == "membership.changed" {
			changes = append(changes, e.Detail)
		}
	}
	want := "project:atlas removed (was manage)|project:atlas manage (was read)|project:atlas read (was manage)|project:atlas manage (new)"
	if got := strings.Join(changes, "|"); got != want {
		t.Errorf("audit %q\nwant  %q", got, want)
	}
}

// TestRolesWithScopes: a rule can demand a scope and a role; both must
// hold, and each refusal says which is missing.
func TestRolesWithScopes(t *testing.T) {
	g := newRolesGateway(t)
	g.addUser("carol")
	g.setMember("carol", "project", "atlas", "edit")
	readOnly := g.mintCapped("carol", nil, "papers:read")
	writer := g.mintCapped("carol", nil, "papers:write")
	writerCapped := g.mintCapped("carol", map[string]string{"project:atlas": "read"}, "papers:write")

	if o := g.roleRequest("POST", "/api/projects/atlas/papers/1", readOnly); o.status != 403 || o.errCode != "insufficient_scope" || o.reached {
		t.Errorf("missing scope: %+v", o)
	}
	g.roleRequest("POST", "/api/projects/atlas/papers/1", writerCapped).wantRoleDenied(t, "project:atlas needs edit; this token is capped at read")
	g.roleRequest("POST", "/api/projects/atlas/papers/1", writer).wantAllowed(t, "project:atlas", "edit")
	g.setMember("carol", "project", "atlas", "read")
	g.roleRequest("POST", "/api/projects/atlas/papers/1", writer).wantRoleDenied(t, "your role is read")
}

// TestRolesPathEdgeCases: the resource comes from one whole path segment;
// a path that could name another resource upstream is refused with 400
// before the credential is even looked at.
func TestRolesPathEdgeCases(t *testing.T) {
	g := newRolesGateway(t)
	g.addUser("dan")
	g.setMember("dan", "project", "atlas", "manage")
	g.setMember("dan", "project", "été", "edit")
	g.setMember("dan", "project", "日本", "read")
	g.setMember("dan", "project", "a b", "read")
	tok := g.mintCapped("dan", nil, "papers:read")

	for _, tc := range []struct {
		name, path string
		status     int
		resource   string // on success
		role       string
		msg        string // on refusal
	}{
		{"plain", "/api/projects/atlas/x", 200, "project:atlas", "manage", ""},
		{"bare resource", "/api/projects/atlas", 200, "project:atlas", "manage", ""},
		{"literal segments ignore case", "/API/Projects/atlas/x", 200, "project:atlas", "manage", ""},
		{"names keep their case", "/api/projects/ATLAS/x", 403, "", "", "project:ATLAS needs read; you have no role on it"},
		{"unicode name", "/api/projects/%C3%A9t%C3%A9/x", 200, "project:%C3%A9t%C3%A9", "edit", ""},
		{"unicode name, other script", "/api/projects/%E6%97%A5%E6%9C%AC/x", 200, "project:%E6%97%A5%E6%9C%AC", "read", ""},
		{"unicode name, other normal form", "/api/projects/e%CC%81t%C3%A9/x", 403, "", "", "you have no role on it"},
		{"encoded space", "/api/projects/a%20b/x", 200, "project:a%20b", "read", ""},
		{"encoded slash", "/api/projects/atlas%2Fzoo/x", 400, "", "", "encoded slash"},
		{"encoded slash, lower case", "/api/projects/atlas%2fzoo/x", 400, "", "", "encoded slash"},
		{"double-encoded slash", "/api/projects/atlas%252Fzoo/x", 400, "", "", "encoded percent sign"},
		{"empty segment", "/api/projects//atlas/x", 400, "", "", "not canonical"},
		{"dot segments", "/api/projects/zoo/../atlas/x", 400, "", "", "not canonical"},
		{"encoded dot segments", "/api/projects/zoo/%2E%2E/atlas/x", 400, "", "", "not canonical"},
		{"control character", "/api/projects/at%00las/x", 400, "", "", "control character"},
		{"too long", "/api/projects/" + strings.Repeat("x", 129) + "/x", 400, "", "", "does not name a valid project"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := g.roleRequest("GET", tc.path, tok)
			switch tc.status {
			case 200:
				o.wantAllowed(t, tc.resource, tc.role)
			case 403:
				o.wantRoleDenied(t, tc.msg)
			case 400:
				if o.status != 400 || o.errCode != "invalid_request" || o.reached || !strings.Contains(o.message, tc.msg) {
					t.Errorf("got %+v, want 400 invalid_request saying %q", o, tc.msg)
				}
			}
		})
	}

	// An ambiguous path is refused even without a valid credential: the
	// request is malformed before it is unauthorised.
	if o := g.roleRequest("GET", "/api/projects/atlas%2Fzoo/x", ""); o.status != 400 {
		t.Errorf("ambiguous path without a credential: %+v", o)
	}
	// An empty placeholder names nothing: the role rule does not match and
	// the default applies, without role headers.
	if o := g.roleRequest("GET", "/api/projects/", tok); o.status != 200 || o.resource != "" {
		t.Errorf("empty placeholder: %+v", o)
	}
	// Ambiguous paths are refused on every route, not only role routes.
	if o := g.roleRequest("GET", "/files/a%2Fb", tok); o.status != 400 || o.reached {
		t.Errorf("encoded slash on a route without a role: %+v", o)
	}
}

// TestMemberCLI: `caddy gatehouse member` against the running server, and
// its refusals, which write nothing.
func TestMemberCLI(t *testing.T) {
	g := newRolesGateway(t)
	g.addUser("erin")
	g.addUser("fred")
	run := func(args ...string) (string, string) {
		t.Helper()
		stdout, stderr, err := g.caddy(append([]string{"gatehouse", "member"}, args...)...)
		if err != nil {
			t.Fatalf("member %v: %v\n%s", args, err, stderr)
		}
		return stdout, stderr
	}
	if _, stderr := run("set", "erin", "project", "atlas", "edit"); !strings.Contains(stderr, "erin is now edit on project:atlas") {
		t.Errorf("set: %s", stderr)
	}
	run("set", "erin", "project", "été", "read")
	run("set", "fred", "project", "atlas", "manage")
	if _, stderr := run("set", "fred", "project", "atlas", "manage"); !strings.Contains(stderr, "nothing changed") {
		t.Errorf("same role again: %s", stderr)
	}

	stdout, _ := run("list")
	for _, want := range []string{"USER", "erin  ", "atlas", "été", "fred", "manage"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("list lacks %q:\n%s", want, stdout)
		}
	}
	stdout, _ = run("list", "erin", "--json")
	var list []struct {
		User, Type, Name, Role, Resource string
		Declared                         bool
	}
	if err := json.Unmarshal([]byte(stdout), &list); err != nil || len(list) != 2 {
		t.Fatalf("list --json: %v %s", err, stdout)
	}
	if list[0].Resource != "project:atlas" || list[0].Role != "edit" || !list[0].Declared || list[1].Name != "été" {
		t.Errorf("list --json: %+v", list)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"set", "nobody", "project", "atlas", "edit"}, "user nobody: not found"},
		{[]string{"set", "erin", "team", "atlas", "edit"}, `unknown resource type "team" (declared: project)`},
		{[]string{"set", "erin", "project", "atlas", "owner"}, `unknown role "owner" for project (roles: read < edit < manage)`},
		{[]string{"set", "erin", "project", "a/b", "edit"}, "must not contain /"},
		{[]string{"set", "erin", "project", "..", "edit"}, "a path cannot name it"},
		{[]string{"set", "erin", "project", strings.Repeat("x", 129), "edit"}, "must be 1 to 128 bytes"},
		{[]string{"set", "erin", "project", "atlas"}, "accepts 4 arg(s)"},
		{[]string{"remove", "erin", "project", "zoo"}, "erin has no membership on project:zoo"},
		{[]string{"remove", "nobody", "project", "atlas"}, "not found"},
		{[]string{"remove", "erin", "team", "atlas"}, `unknown resource type "team"`},
		{[]string{"list", "nobody"}, "not found"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, stderr, err := g.caddy(append([]string{"gatehouse", "member"}, tc.args...)...)
			if err == nil || !strings.Contains(stderr, tc.want) {
				t.Errorf("err %v, stderr does not say %q:\n%s", err, tc.want, stderr)
			}
		})
	}
	var after []json.RawMessage
	g.admin("GET", "/gatehouse/members", nil, &after)
	if len(after) != 3 {
		t.Errorf("refusals changed memberships: %d", len(after))
	}
	var events []struct{ Action string }
	g.admin("GET", "/gatehouse/audit", nil, &events)
	n := 0
	for _, e := range events {
		if e.Action == "membership.changed" {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d membership.changed events, want 3", n)
	}

	// Token caps are checked the same way at creation.
	for _, tc := range []struct{ caps, want string }{
		{"project:atlas=owner", `unknown role "owner"`},
		{"team:x=read", `unknown resource type "team"`},
		{"project:a%2Fb=read", ""}, // a literal percent sign is a valid name
		{"project:x=y=read", ""},   // the last = separates the role
		{" , ", "name at least one type:name=role"},
		{"project:atlas", "want type:name=role"},
		{"project:=read", `resource name "": must be 1 to 128 bytes`},
	} {
		_, stderr, err := g.caddy("gatehouse", "token", "create", "--user", "erin", "--scopes", "papers:read", "--expires-days", "5", "--resources", tc.caps)
		if tc.want == "" {
			if err != nil {
				t.Errorf("--resources %s: %v %s", tc.caps, err, stderr)
			}
			continue
		}
		if err == nil || !strings.Contains(stderr, tc.want) {
			t.Errorf("--resources %s: %v, stderr does not say %q: %s", tc.caps, err, tc.want, stderr)
		}
	}
}

// TestMemberCLIOffline: with no server running, member commands open the
// store and check types and roles against the Caddyfile's declarations.
func TestMemberCLIOffline(t *testing.T) {
	dir := t.TempDir()
	caddyfile := filepath.Join(dir, "Caddyfile")
	os.WriteFile(caddyfile, []byte(fmt.Sprintf(`{
	admin localhost:%d
	gatehouse {
		store %s
		resource team member lead
	}
}
`, unusedPort, filepath.Join(dir, "offline.db"))), 0o600)
	run := func(args ...string) (string, string, error) {
		return runCaddy(t, append(append([]string{"gatehouse"}, args...), "--config", caddyfile)...)
	}
	if _, stderr, err := run("user", "add", "gina"); err != nil {
		t.Fatalf("user add: %v %s", err, stderr)
	}
	if _, stderr, err := run("member", "set", "gina", "team", "core", "lead"); err != nil {
		t.Fatalf("member set: %v %s", err, stderr)
	}
	if _, stderr, err := run("member", "set", "gina", "project", "atlas", "read"); err == nil || !strings.Contains(stderr, `unknown resource type "project" (declared: team)`) {
		t.Errorf("undeclared type offline: %v %s", err, stderr)
	}
	stdout, _, err := run("member", "list", "gina")
	if err != nil || !strings.Contains(stdout, "core") || !strings.Contains(stdout, "lead") {
		t.Errorf("list: %v %s", err, stdout)
	}
}

// TestRolesCaddyfileErrors: role rules and resource declarations that
// cannot work fail at load, naming the file and line.
func TestRolesCaddyfileErrors(t *testing.T) {
	const global = `{
	gatehouse {
		resource project read edit manage
	}
}
`
	for _, tc := range []struct {
		name, body, want string
		line             int
	}{
		{"unknown resource type", global + `:8080 {
	gatehouse {
		rule * /api/teams/{team}/* role team edit
	}
}`, `unknown resource type "team" (declared: project)`, 8},
		{"unknown role", global + `:8080 {
	gatehouse {
		rule GET /api/projects/{project}/* anonymous
		rule * /api/projects/{project}/* role project owner
	}
}`, `unknown role "owner" for project (roles: read < edit < manage)`, 9},
		{"placeholder missing from the path", global + `:8080 {
	gatehouse {
		rule * /api/projects/{id}/* role project edit
	}
}`, "role project needs the placeholder {project} in the path", 8},
		{"unknown named placeholder", global + `:8080 {
	gatehouse {
		rule * /api/projects/{project}/* role project {proj} edit
	}
}`, "role project needs the placeholder {proj} in the path", 8},
		{"placeholder without braces", global + `:8080 {
	gatehouse {
		rule * /api/projects/{project}/* role project project edit
	}
}`, `role placeholder "project" must look like {name}`, 8},
		{"placeholder inside a segment", global + `:8080 {
	gatehouse {
		rule * /api/projects/p-{project}/* role project edit
	}
}`, "a placeholder must be a whole segment", 8},
		{"role in the default", global + `:8080 {
	gatehouse {
		default role project edit
	}
}`, "needs the placeholder {project}", 8},
		{"no resources declared", `:8080 {
	gatehouse {
		rule * /api/projects/{project}/* role project edit
	}
}`, "add `resource <type> <roles…>` to the gatehouse global option", 3},
		{"bad role name", `{
	gatehouse {
		scopes wiki:read
		resource project read Edit
	}
}`, `role name "Edit"`, 4},
		{"role listed twice", `{
	gatehouse {
		resource project read edit read
	}
}`, "role read listed twice", 3},
		{"type declared twice", `{
	gatehouse {
		resource project read
		resource project edit
	}
}`, "resource project declared twice", 4},
		{"type without roles", `{
	gatehouse {
		resource project
	}
}`, "resource needs a type and its roles", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "Caddyfile")
			os.WriteFile(file, []byte(tc.body), 0o600)
			_, stderr, err := runCaddy(t, "adapt", "--config", file)
			stderr = strings.ReplaceAll(stderr, `\"`, `"`)
			if err == nil {
				t.Fatal("adapted without error")
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("error does not mention %q:\n%s", tc.want, stderr)
			}
			if at := file + ":" + strconv.Itoa(tc.line); !strings.Contains(stderr, at) {
				t.Errorf("error does not point at %s:\n%s", at, stderr)
			}
		})
	}
}
