package caddymodule

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/gate"
)

// testApp is a gatehouse App provisioned as Caddy would, with g's policy,
// over the store g names or a fresh one in a temporary directory. Like a
// provisioned config generation it has not opened the store yet
// (openStore); Cleanup runs when the test ends.
func testApp(tb testing.TB, g config.Global) *App {
	tb.Helper()
	if g.Store == "" {
		g.Store = filepath.Join(tb.TempDir(), "gatehouse.db")
	}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	tb.Cleanup(cancel)
	a := &App{Global: g}
	if err := a.Provision(ctx); err != nil {
		tb.Fatalf("provision: %v", err)
	}
	a.logger = zap.NewNop()
	tb.Cleanup(func() { a.Cleanup() })
	return a
}

// newTestApp is testApp with its store open, for tests and benchmarks of
// the handler.
func newTestApp(tb testing.TB, g config.Global) *App {
	tb.Helper()
	a := testApp(tb, g)
	if err := a.openStore(); err != nil {
		tb.Fatal(err)
	}
	return a
}

// testHandler is a handler over a with the given rules compiled.
func (a *App) testHandler(tb testing.TB, rules ...config.Rule) *Handler {
	tb.Helper()
	h := &Handler{Rules: rules, app: a, logger: zap.NewNop(), upstream: gate.DefaultUpstreamHeaders}
	var err error
	if h.rules, err = a.policy.CompileRules(rules, nil); err != nil {
		tb.Fatal(err)
	}
	return h
}

// benchServe runs the whole middleware b.N times for one request and
// returns it (with what was forwarded) and the response headers.
func benchServe(b *testing.B, h *Handler, method, path string, headers http.Header) (*http.Request, http.Header) {
	b.Helper()
	req := httptest.NewRequest(method, path, nil)
	req = req.WithContext(context.WithValue(req.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer()))
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		req.Header = headers.Clone()
		w.HeaderMap = http.Header{}
		if err := h.ServeHTTP(w, req, nopNext); err != nil {
			b.Fatal(err)
		}
	}
	return req, w.Header()
}
