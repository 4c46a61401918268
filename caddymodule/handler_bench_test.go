package caddymodule

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
)

// benchHandler builds a handler over a real store without a Caddy server,
// to measure what Gatehouse adds to one request.
func benchHandler(b *testing.B) (*Handler, string) {
	b.Helper()
	g := config.Global{Scopes: []string{"papers:read", "papers:write"}}
	policy, err := compilePolicy(g)
	if err != nil {
		b.Fatal(err)
	}
	store, err := authstore.Open(filepath.Join(b.TempDir(), "gh.db"), authstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	app := &App{Global: g, policy: policy, store: store, logger: zap.NewNop()}
	u, _ := store.CreateUser(authstore.NewUser{Login: "bench", Tier: "free"}, authstore.AdminActor)
	tok, _, err := app.mintPAT(u, patRequest{Name: "b", Scopes: []string{"papers:read"}, ExpiresDays: 30, Via: authstore.ViaAdmin}, authstore.AdminActor)
	if err != nil {
		b.Fatal(err)
	}
	h := &Handler{
		Rules: []config.Rule{
			{Methods: []string{"GET"}, Path: "/api/wiki/*", Require: config.Requirement{Access: config.AccessAnonymous}},
			{Methods: []string{"GET"}, Path: "/api/papers/*", Require: config.Requirement{Scopes: []string{"papers:read"}}},
			{Path: "/admin/*", Require: config.Requirement{Access: config.AccessDeny}},
		},
		app: app, logger: zap.NewNop(),
	}
	if h.rules, err = policy.CompileRules(h.Rules, nil); err != nil {
		b.Fatal(err)
	}
	return h, tok
}

var nopNext = caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return nil })

// BenchmarkServeHTTP measures the whole middleware for a PAT request on a
// scope rule with a warm cache: header strip, parse, verify, match,
// decide, forward.
func BenchmarkServeHTTP(b *testing.B) {
	h, tok := benchHandler(b)
	repl := caddy.NewReplacer()
	req := httptest.NewRequest("GET", "/api/papers/42", nil)
	req = req.WithContext(context.WithValue(req.Context(), caddy.ReplacerCtxKey, repl))
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		req.Header = http.Header{"Authorization": {"Bearer " + tok}}
		w.HeaderMap = http.Header{}
		if err := h.ServeHTTP(w, req, nopNext); err != nil {
			b.Fatal(err)
		}
	}
	if req.Header.Get("Gatehouse-User") != "bench" {
		b.Fatalf("identity not forwarded: %v", req.Header)
	}
}
