package caddymodule

import (
	"encoding/json"
	"maps"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	_ "github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy" // the README's Caddyfiles proxy

	"github.com/gatehouse/gatehouse/config"
)

// adaptSite adapts a Caddyfile in process, as `caddy adapt` does, and
// returns the site's gatehouse handler.
func adaptSite(t *testing.T, body string) (*Handler, error) {
	t.Helper()
	out, _, err := caddyfile.Adapter{ServerType: httpcaddyfile.ServerType{}}.Adapt([]byte(body), map[string]any{"filename": "Caddyfile"})
	if err != nil {
		return nil, err
	}
	var cfg any
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatal(err)
	}
	if raw := findHandler(cfg); raw != nil {
		h := new(Handler)
		b, _ := json.Marshal(raw)
		if err := json.Unmarshal(b, h); err != nil {
			t.Fatal(err)
		}
		return h, nil
	}
	t.Fatalf("no gatehouse handler in %s", out)
	return nil, nil
}

// findHandler is the first gatehouse handler anywhere in an adapted
// config (a host-matched site nests it in a subroute).
func findHandler(v any) map[string]any {
	switch v := v.(type) {
	case map[string]any:
		if v["handler"] == "gatehouse" {
			return v
		}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			if h := findHandler(v[k]); h != nil {
				return h
			}
		}
	case []any:
		for _, e := range v {
			if h := findHandler(e); h != nil {
				return h
			}
		}
	}
	return nil
}

const registryGlobal = `{
	gatehouse {
		scopes read write admin task_history papers:write
		resource project read edit manage
	}
}
`

// TestCaddyfileRequirementForms pins the JSON of each requirement form:
// bare scope names, self, alternatives on one line and as a block.
func TestCaddyfileRequirementForms(t *testing.T) {
	t.Parallel()
	scope := func(s ...string) config.Requirement { return config.Requirement{Scopes: s} }
	for _, tc := range []struct {
		name, rule string
		want       config.Rule
	}{
		{"bare scope", `rule GET /v1/knowledge/* scope read`,
			config.Rule{Methods: []string{"GET"}, Path: "/v1/knowledge/*", Require: scope("read")}},
		{"self", `rule GET /v1/export/{agent} self {agent} scope task_history`,
			config.Rule{Methods: []string{"GET"}, Path: "/v1/export/{agent}", Require: config.Requirement{Scopes: []string{"task_history"}, Self: "agent"}}},
		{"or", `rule GET /v1/export/{agent} self {agent} or scope admin no_limit`,
			config.Rule{Methods: []string{"GET"}, Path: "/v1/export/{agent}", Limit: config.LimitNone, Require: config.Requirement{Any: []config.Requirement{{Self: "agent"}, scope("admin")}}}},
		{"any block", "rule DELETE /v1/knowledge/* any {\n\t\t\tscope admin\n\t\t\tscope write\n\t\t}",
			config.Rule{Methods: []string{"DELETE"}, Path: "/v1/knowledge/*", Require: config.Requirement{Any: []config.Requirement{scope("admin"), scope("write")}}}},
		{"any block under a common requirement", "rule * /p/{project}/* session limit search any {\n\t\t\trole project edit\n\t\t\tscope admin\n\t\t}",
			config.Rule{Path: "/p/{project}/*", Limit: "search", Require: config.Requirement{Access: config.AccessSession, Any: []config.Requirement{{Role: &config.RoleRequirement{Resource: "project", Min: "edit"}}, scope("admin")}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			global := strings.Replace(registryGlobal, "resource project", "budget search 10/1m\n\t\tresource project", 1)
			h, err := adaptSite(t, global+":8080 {\n\tgatehouse {\n\t\t"+tc.rule+"\n\t}\n}\n")
			if err != nil {
				t.Fatal(err)
			}
			if len(h.Rules) != 1 || !reflect.DeepEqual(h.Rules[0], tc.want) {
				t.Errorf("rules %+v\nwant %+v", h.Rules, tc.want)
			}
		})
	}
}

// TestCaddyfileRequirementErrors: each mistake in the new forms fails
// adaptation with its file and line.
func TestCaddyfileRequirementErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, site, want string
		line             int
	}{
		{"unknown placeholder in self", "rule GET /v1/export/{agent} self {user}", "self {user}: the path /v1/export/{agent} has no placeholder {user} (it has {agent})", 9},
		{"self without placeholder", "rule GET /v1/export/{agent} self agent", "self needs a path placeholder", 9},
		{"empty any block", "rule GET /x any {\n\t\t}", "any needs a block with at least one alternative", 10},
		{"any without block", "rule GET /x any", "any needs a block", 9},
		{"empty alternative", "rule GET /x/{agent} self {agent} or", "'or' needs a requirement on each side", 9},
		{"or at start", "rule GET /x or scope admin", "'or' needs a requirement on each side", 9},
		{"anonymous alternative", "rule GET /x scope admin or anonymous", "an alternative cannot be anonymous", 9},
		{"unknown scope in a block", "rule GET /x any {\n\t\t\tscope admin\n\t\t\tscope nope\n\t\t}", "alternative 2 (scope nope): unknown scope nope", 9},
		{"limit in a block", "rule GET /x any {\n\t\t\tscope admin no_limit\n\t\t}", "put no_limit or limit on the rule's line", 10},
		{"any after or", "rule GET /x scope admin or any", "'or' goes on its own", 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := adaptSite(t, registryGlobal+":8080 {\n\tgatehouse {\n\t\t"+tc.site+"\n\t}\n}\n")
			if err == nil {
				t.Fatal("adapted without error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
			if at := "Caddyfile:" + itoa(tc.line); !strings.Contains(err.Error(), at) {
				t.Errorf("error %q does not point at %s", err, at)
			}
		})
	}
	// Bad scope names in the catalog point at their line too.
	_, err := adaptSite(t, "{\n\tgatehouse {\n\t\tscopes read \"two words\"\n\t}\n}\n")
	if err == nil || !strings.Contains(err.Error(), "RFC 6749") || !strings.Contains(err.Error(), "Caddyfile:3") {
		t.Errorf("bad scope name: %v", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestCaddyfileHeaders: `headers` and `header` fill the handler's JSON;
// mistakes fail with their line.
func TestCaddyfileHeaders(t *testing.T) {
	t.Parallel()
	h, err := adaptSite(t, ":8080 {\n\tgatehouse {\n\t\theaders user_id login scopes\n\t\theader login X-Remote-User\n\t}\n}\n")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(h.Headers, []string{"user_id", "login", "scopes"}) || !reflect.DeepEqual(h.HeaderNames, map[string]string{"login": "X-Remote-User"}) {
		t.Errorf("headers %v, names %v", h.Headers, h.HeaderNames)
	}
	for _, tc := range []struct{ site, want string }{
		{"headers", "headers needs the identity fields"},
		{"headers email", `unknown identity header "email"`},
		{"header login", "header needs an identity field and the header name"},
		{"header login Cookie", "belongs to the request"},
		{"header login X-A\n\t\theader login X-B", "header login given twice"},
	} {
		_, err := adaptSite(t, ":8080 {\n\tgatehouse {\n\t\t"+tc.site+"\n\t}\n}\n")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "Caddyfile:") {
			t.Errorf("%q: %v, want %q", tc.site, err, tc.want)
		}
	}
}

// TestReadmeCaddyfiles adapts every complete Caddyfile of the README's
// forward-auth and reference-API sections, so the documented forms stay
// valid.
func TestReadmeCaddyfiles(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	n := 0
	for _, section := range []string{"## Forward-auth mode", "## Reference APIs as Caddyfiles"} {
		start := strings.Index(readme, section)
		if start < 0 {
			t.Fatalf("README has no section %q", section)
		}
		body := readme[start+len(section):]
		if end := strings.Index(body, "\n## "); end >= 0 {
			body = body[:end]
		}
		for _, block := range strings.Split(body, "```caddyfile\n")[1:] {
			block, _, _ = strings.Cut(block, "```")
			if !strings.HasPrefix(block, "{") {
				continue // a fragment for another proxy's site, not a whole config
			}
			n++
			h, err := adaptSite(t, block)
			if err != nil {
				t.Errorf("%s, Caddyfile %d: %v", section, n, err)
				continue
			}
			if len(h.Rules) == 0 {
				t.Errorf("%s, Caddyfile %d: no rules", section, n)
			}
		}
	}
	if n != 3 {
		t.Errorf("%d whole Caddyfiles checked, want 3", n)
	}
}
