package caddymodule

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/gatehouse/gatehouse/config"
)

// TestRefusalToErrorRoutes: a refusal handed to the site's handle_errors
// routes is a caddyhttp error with the challenge set, and the request the
// error routes see (and may proxy) no longer carries the caller's secret.
func TestRefusalToErrorRoutes(t *testing.T) {
	a := newTestApp(t, config.Global{Scopes: []string{"papers:read"}})
	h := a.testHandler(t, config.Rule{Path: "/api/*", Require: config.Requirement{Scopes: []string{"papers:read"}}})
	h.HandleErrors = handleErrorsAll
	r := httptest.NewRequest("GET", "/api/x", nil)
	r = r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer()))
	r.Header.Set("Authorization", "Bearer not-a-token")
	r.AddCookie(&http.Cookie{Name: "gatehouse_session", Value: "x.y.z"})
	w := httptest.NewRecorder()
	err := h.ServeHTTP(w, r, nopNext)
	var he caddyhttp.HandlerError
	if !errors.As(err, &he) || he.StatusCode < 400 {
		t.Fatalf("error %v, want a caddyhttp.HandlerError", err)
	}
	if w.Header().Get("WWW-Authenticate") == "" || w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("headers %v", w.Header())
	}
	if r.Header.Get("Authorization") != "" || r.Header.Get("Cookie") != "" {
		t.Errorf("the error routes would see the caller's credentials: %v", r.Header)
	}
	if w.Body.Len() != 0 {
		t.Errorf("the body is the error routes' to write: %q", w.Body)
	}
}
