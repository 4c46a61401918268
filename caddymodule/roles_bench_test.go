package caddymodule

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/decision"
	"github.com/gatehouse/gatehouse/gate"
	"github.com/gatehouse/gatehouse/requestcheck"
	"github.com/gatehouse/gatehouse/service"
)

// roleBenchHandler builds a handler over a real store whose rules mix a
// scope rule and role rules, with a user holding a membership and two
// PATs: one for all resources, one capped.
func roleBenchHandler(b testing.TB) (h *Handler, all, capped string) {
	b.Helper()
	app := newTestApp(b, config.Global{
		Scopes:    []string{"papers:read", "papers:write"},
		Resources: []config.ResourceType{{Name: "project", Roles: []string{"read", "edit", "manage"}}},
	})
	store := app.store
	u, err := store.CreateUser(authstore.NewUser{Login: "bench", Tier: "free"}, authstore.AdminActor)
	if err != nil {
		b.Fatal(err)
	}
	if u, _, err = store.SetMembership(u.Login, "project", "atlas", "manage", authstore.AdminActor); err != nil {
		b.Fatal(err)
	}
	mint := func(caps map[string]string) string {
		tok, _, err := app.svc.MintPAT(u, service.PATRequest{Name: "b", Scopes: []string{"papers:read", "papers:write"}, ExpiresDays: 30, Resources: caps, Via: authstore.ViaAdmin}, authstore.AdminActor)
		if err != nil {
			b.Fatal(err)
		}
		return tok
	}
	h = app.testHandler(b,
		config.Rule{Methods: []string{"GET"}, Path: "/api/papers/*", Require: config.Requirement{Scopes: []string{"papers:read"}}},
		config.Rule{Methods: []string{"GET"}, Path: "/api/projects/{project}/*", Require: config.Requirement{Role: &config.RoleRequirement{Resource: "project", Min: "edit"}}},
		config.Rule{Methods: []string{"POST"}, Path: "/api/projects/{project}/*", Require: config.Requirement{Scopes: []string{"papers:write"}, Role: &config.RoleRequirement{Resource: "project", Min: "edit"}}},
	)
	return h, mint(nil), mint(map[string]string{"project:atlas": "edit"})
}

// BenchmarkRoleDecision measures Rules.Match plus gate.Authorize
// (authenticate with a warm cache, then the rule's requirement) for a scope rule and for
// role rules; the difference between "scope" and the others is what a
// role decision adds to a request.
func BenchmarkRoleDecision(b *testing.B) {
	h, all, capped := roleBenchHandler(b)
	for _, tc := range []struct{ name, method, path, tok string }{
		{"scope", "GET", "/api/papers/42", all},
		{"role", "GET", "/api/projects/atlas/tasks/7", all},
		{"role_capped", "GET", "/api/projects/atlas/tasks/7", capped},
		{"scope+role", "POST", "/api/projects/atlas/tasks", all},
	} {
		b.Run(tc.name, func(b *testing.B) {
			req := httptest.NewRequest(tc.method, tc.path, nil)
			req.Header.Set("Authorization", "Bearer "+tc.tok)
			b.ReportAllocs()
			for b.Loop() {
				rule, params := h.rules.Match(req.Method, req.URL.Path)
				if _, d := h.app.gate.Authorize(req, gate.Route{Rule: rule, Params: &params}); d != nil {
					b.Fatal(d.Message)
				}
			}
		})
	}
}

// BenchmarkCheckRole isolates the role step: path check, placeholder,
// name rules, min(cap, membership) and the identity copy.
func BenchmarkCheckRole(b *testing.B) {
	h, all, _ := roleBenchHandler(b)
	req := httptest.NewRequest("GET", "/api/projects/atlas/tasks/7", nil)
	req.Header.Set("Authorization", "Bearer "+all)
	id, d := h.app.gate.Authenticate(req)
	if d != nil {
		b.Fatal(d.Message)
	}
	rule, params := h.rules.Match(req.Method, req.URL.Path)
	b.ReportAllocs()
	for b.Loop() {
		if p := requestcheck.Path(req.URL.EscapedPath(), req.URL.Path); p != nil {
			b.Fatal(p.Message)
		}
		if d := decision.Decide(id, rule, &params); !d.Allowed() {
			b.Fatal(d.Outcome)
		}
	}
}

// BenchmarkServeHTTPRole is BenchmarkServeHTTP on a role route: the whole
// middleware, including the Gatehouse-Resource and Gatehouse-Role headers.
// The request carries the headers curl sends: with Authorization alone,
// the two role headers would be the 8th and 9th entries of the header map
// and pay Go's one-off small-map-to-table growth (about 1 µs), which a
// real request, carrying more headers, pays on scope routes as well.
func BenchmarkServeHTTPRole(b *testing.B) {
	h, all, _ := roleBenchHandler(b)
	for _, tc := range []struct{ name, path string }{
		{"scope", "/api/papers/42"},
		{"role", "/api/projects/atlas/tasks/7"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			req, _ := benchServe(b, h, "GET", tc.path, http.Header{
				"Authorization":   {"Bearer " + all},
				"User-Agent":      {"curl/8.5.0"},
				"Accept":          {"*/*"},
				"Accept-Encoding": {"gzip"},
			})
			if tc.name == "role" && (req.Header.Get("Gatehouse-Resource") != "project:atlas" || req.Header.Get("Gatehouse-Role") != "manage") {
				b.Fatalf("role not forwarded: %v", req.Header)
			}
		})
	}
}
