package caddymodule

import (
	"net/http"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/gatehouse/gatehouse/assertion"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/gate"
	"github.com/gatehouse/gatehouse/service"
)

// benchHandler builds a handler over a real store without a Caddy server,
// with a user and a PAT, to measure what Gatehouse adds to one request.
func benchHandler(b *testing.B) (*Handler, string) {
	b.Helper()
	app := newTestApp(b, config.Global{Scopes: []string{"papers:read", "papers:write"}})
	u, _ := app.store.CreateUser(authstore.NewUser{Login: "bench", Tier: "free"}, authstore.AdminActor)
	tok, _, err := app.svc.MintPAT(u, service.PATRequest{Name: "b", Scopes: []string{"papers:read"}, ExpiresDays: 30, Via: authstore.ViaAdmin}, authstore.AdminActor)
	if err != nil {
		b.Fatal(err)
	}
	h := app.testHandler(b,
		config.Rule{Methods: []string{"GET"}, Path: "/api/wiki/*", Require: config.Requirement{Access: config.AccessAnonymous}},
		config.Rule{Methods: []string{"GET"}, Path: "/api/papers/*", Require: config.Requirement{Scopes: []string{"papers:read"}}},
		config.Rule{Path: "/admin/*", Require: config.Requirement{Access: config.AccessDeny}},
	)
	return h, tok
}

var nopNext = caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return nil })

// BenchmarkServeHTTP measures the whole middleware for a PAT request on a
// scope rule with a warm cache: header strip, parse, verify, match,
// decide, forward.
func BenchmarkServeHTTP(b *testing.B) {
	h, tok := benchHandler(b)
	req, _ := benchServe(b, h, "GET", "/api/papers/42", http.Header{"Authorization": {"Bearer " + tok}})
	if req.Header.Get("Gatehouse-User") != "bench" {
		b.Fatalf("identity not forwarded: %v", req.Header)
	}
}

// BenchmarkServeHTTPHeaders compares a site that sends three identity
// headers (`headers user_id login scopes`) with the default's six (eight
// with a role rule), in the same run.
func BenchmarkServeHTTPHeaders(b *testing.B) {
	for _, tc := range []struct {
		name   string
		fields []string
		want   int
	}{
		{"six", nil, 6},
		{"three", []string{gate.FieldUserID, gate.FieldLogin, gate.FieldScopes}, 3},
	} {
		b.Run(tc.name, func(b *testing.B) {
			h, tok := benchHandler(b)
			var err error
			if h.upstream, err = gate.NewUpstreamHeaders(tc.fields, nil); err != nil {
				b.Fatal(err)
			}
			req, _ := benchServe(b, h, "GET", "/api/papers/42", http.Header{"Authorization": {"Bearer " + tok}})
			n := 0
			for k := range req.Header {
				if strings.HasPrefix(k, "Gatehouse-") {
					n++
				}
			}
			if n != tc.want {
				b.Fatalf("%d identity headers, want %d: %v", n, tc.want, req.Header)
			}
		})
	}
}

// BenchmarkServeHTTPAssertion compares the proxy path with the signed
// identity assertion on (a warm cache: the same PAT and audience) and
// off, in the same run.
func BenchmarkServeHTTPAssertion(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "on"
		}
		b.Run(name, func(b *testing.B) {
			h, tok := benchHandler(b)
			if on {
				h.Assertion = &AssertionOptions{Audience: "api.test"}
				if err := h.provisionAssertion(); err != nil {
					b.Fatal(err)
				}
			}
			req, _ := benchServe(b, h, "GET", "/api/papers/42", http.Header{"Authorization": {"Bearer " + tok}})
			if got := req.Header.Get(assertion.Header) != ""; got != on {
				b.Fatalf("assertion present %v, want %v", got, on)
			}
		})
	}
}
