package caddymodule

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/gate"
)

// newTestApp is an App over a fresh store without a Caddy server, for
// unit tests and benchmarks of the handler.
func newTestApp(tb testing.TB, g config.Global) *App {
	tb.Helper()
	policy, err := compilePolicy(g)
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(tb.TempDir(), "gatehouse.db")
	store, err := authstore.Open(path, authstore.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	a := overStore(g, policy, store, zap.NewNop())
	a.gate = a.newGate()
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
