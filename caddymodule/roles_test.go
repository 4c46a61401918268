package caddymodule

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

// TestServeHTTPForwardsRole: on a role route the upstream gets the
// resource and the effective role as headers and placeholders; on other
// routes neither, even when the client sends them.
func TestServeHTTPForwardsRole(t *testing.T) {
	h, all, capped := roleBenchHandler(t)
	for _, tc := range []struct {
		path, tok      string
		resource, role string
	}{
		{"/api/projects/atlas/tasks", all, "project:atlas", "manage"},
		{"/api/projects/atlas/tasks", capped, "project:atlas", "edit"},
		{"/api/papers/1", all, "", ""},
	} {
		repl := caddy.NewReplacer()
		req := httptest.NewRequest("GET", tc.path, nil)
		req = req.WithContext(context.WithValue(req.Context(), caddy.ReplacerCtxKey, repl))
		req.Header.Set("Authorization", "Bearer "+tc.tok)
		req.Header.Set("Gatehouse-Resource", "project:forged")
		req.Header.Set("Gatehouse-Role", "manage")
		w := httptest.NewRecorder()
		if err := h.ServeHTTP(w, req, nopNext); err != nil || w.Code != 200 {
			t.Fatalf("%s: %v %d %s", tc.path, err, w.Code, w.Body)
		}
		if got := req.Header.Get("Gatehouse-Resource"); got != tc.resource {
			t.Errorf("%s: Gatehouse-Resource %q, want %q", tc.path, got, tc.resource)
		}
		if got := req.Header.Get("Gatehouse-Role"); got != tc.role {
			t.Errorf("%s: Gatehouse-Role %q, want %q", tc.path, got, tc.role)
		}
		res, _ := repl.GetString("gatehouse.resource")
		role, _ := repl.GetString("gatehouse.role")
		if res != tc.resource || role != tc.role {
			t.Errorf("%s: placeholders %q %q, want %q %q", tc.path, res, role, tc.resource, tc.role)
		}
	}
}
