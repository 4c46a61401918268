package caddymodule

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
)

// TestSessionJWTVariantsRefused sends a valid session JWT, and the strings
// that differ from it only in the unused low bits of the signature's last
// base64url character, through the middleware as a Bearer token and as the
// session cookie: only the JWT the store issued gets through; every
// variant is a 401 invalid_token, whether the genuine JWT is cached or not.
func TestSessionJWTVariantsRefused(t *testing.T) {
	app := newTestApp(t, config.Global{TokenPrefix: "qat_", Scopes: []string{"papers:read"}})
	h := app.testHandler(t, config.Rule{Path: "/*", Require: config.Requirement{Access: config.AccessAuthenticated}})
	s := app.store
	u, err := s.CreateUser(authstore.NewUser{Login: "alice", Tier: "free"}, authstore.AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := s.CreateSession(authstore.NewSession{UserID: u.ID, Kind: authstore.SessionBrowser, TTL: time.Hour}, authstore.AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	good, err := s.IssueSessionJWT(sess, time.Now(), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, good[len(good)-1])
	var variants []string
	for v := 1; v < 4; v++ { // 32 bytes in 43 characters: 2 spare bits
		variants = append(variants, good[:len(good)-1]+string(alphabet[last^v]))
	}

	serve := func(header, value string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/api/papers/1", nil)
		req = req.WithContext(context.WithValue(req.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer()))
		req.Header.Set(header, value)
		w := httptest.NewRecorder()
		if err := h.ServeHTTP(w, req, nopNext); err != nil {
			t.Fatal(err)
		}
		return w
	}
	carriers := []struct {
		name   string
		header string
		value  func(jwt string) string
	}{
		{"bearer", "Authorization", func(jwt string) string { return "Bearer " + jwt }},
		{"cookie", "Cookie", func(jwt string) string { return sessionCookie + "=" + jwt }},
	}
	for _, c := range carriers {
		for _, warm := range []bool{false, true} {
			if warm {
				if w := serve(c.header, c.value(good)); w.Code != http.StatusOK {
					t.Fatalf("%s: the genuine JWT: %d %s", c.name, w.Code, w.Body)
				}
			}
			for i, v := range variants {
				w := serve(c.header, c.value(v))
				if w.Code != http.StatusUnauthorized || !strings.Contains(w.Header().Get("WWW-Authenticate"), `error="invalid_token"`) {
					t.Errorf("%s, warm=%v, variant %d: %d %q %s", c.name, warm, i+1, w.Code, w.Header().Get("WWW-Authenticate"), w.Body)
				}
			}
		}
		if w := serve(c.header, c.value(good)); w.Code != http.StatusOK {
			t.Errorf("%s: the genuine JWT after its variants: %d %s", c.name, w.Code, w.Body)
		}
	}
}
