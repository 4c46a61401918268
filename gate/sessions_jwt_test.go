package gate

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/problem"
)

// TestSessionJWTVariantsRefused sends a valid session JWT, and the strings
// that differ from it only in the unused low bits of the signature's last
// base64url character, through Admit as a Bearer token and as the
// session cookie: only the JWT the store issued gets through; every
// variant is a 401 invalid_token, whether the genuine JWT is cached or not.
func TestSessionJWTVariantsRefused(t *testing.T) {
	t.Parallel()
	g, s := testGate(t, config.Global{TokenPrefix: "qat_", Scopes: []string{"papers:read"}})
	rules, err := g.policy.CompileRules([]config.Rule{{Path: "/*", Require: config.Requirement{Access: config.AccessAuthenticated}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
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
		req.Header.Set(header, value)
		w := httptest.NewRecorder()
		rule, params := rules.Match(req.Method, req.URL.Path)
		if _, d := g.Admit(w, req, Route{Rule: rule, Params: &params, Limit: rule.Limit}); d != nil {
			problem.Write(w, g.policy.Realm, g.Refuse(w, req, d))
		}
		return w
	}
	carriers := []struct {
		name   string
		header string
		value  func(jwt string) string
	}{
		{"bearer", "Authorization", func(jwt string) string { return "Bearer " + jwt }},
		{"cookie", "Cookie", func(jwt string) string { return SessionCookie + "=" + jwt }},
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
