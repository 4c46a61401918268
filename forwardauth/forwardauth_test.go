package forwardauth

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type trust bool

func (t trust) FromTrustedProxy(*http.Request) bool { return bool(t) }

// TestOriginal: the original request is rebuilt from either proxy's
// headers, and everything inline mode refuses, or that forward-auth
// cannot see, is refused.
func TestOriginal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		trusted bool
		headers map[string]string
		reason  string // "" when rebuilt
		method  string
		path    string
		query   string
		host    string
	}{
		{"nginx", true, map[string]string{"X-Original-Method": "DELETE", "X-Original-URI": "/v1/knowledge/k1?force=1"}, "", "DELETE", "/v1/knowledge/k1", "force=1", "gw.test"},
		{"traefik", true, map[string]string{"X-Forwarded-Method": "PUT", "X-Forwarded-Uri": "/a/b", "X-Forwarded-Host": "api.test"}, "", "PUT", "/a/b", "", "api.test"},
		{"escaped path is decoded", true, map[string]string{"X-Original-Method": "GET", "X-Original-URI": "/p/%C3%A9t%C3%A9"}, "", "GET", "/p/été", "", "gw.test"},
		{"odd forwarded host ignored", true, map[string]string{"X-Forwarded-Method": "GET", "X-Forwarded-Uri": "/a", "X-Forwarded-Host": "evil/x"}, "", "GET", "/a", "", "gw.test"},
		{"untrusted", false, map[string]string{"X-Original-Method": "GET", "X-Original-URI": "/a"}, "untrusted_proxy", "", "", "", ""},
		{"no method", true, map[string]string{"X-Original-URI": "/a"}, "no_original_request", "", "", "", ""},
		{"no uri", true, map[string]string{"X-Original-Method": "GET"}, "no_original_request", "", "", "", ""},
		{"lower-case method", true, map[string]string{"X-Original-Method": "delete", "X-Original-URI": "/a"}, "unknown_method", "", "", "", ""},
		{"absolute URI", true, map[string]string{"X-Original-Method": "GET", "X-Original-URI": "http://x/a"}, "bad_original_uri", "", "", "", ""},
		{"encoded slash", true, map[string]string{"X-Original-Method": "GET", "X-Original-URI": "/a%2Fb"}, "ambiguous_path", "", "", "", ""},
		{"override header", true, map[string]string{"X-Original-Method": "POST", "X-Original-URI": "/a", "X-Http-Method-Override": "DELETE"}, "method_override", "", "", "", ""},
		{"_method in query", true, map[string]string{"X-Original-Method": "POST", "X-Original-URI": "/a?_method=DELETE"}, "method_override", "", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://gw.test/gatehouse/auth", nil)
			r.Header.Set("Authorization", "Bearer x")
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			orig, p := Original(r, trust(tc.trusted))
			if tc.reason != "" {
				if p == nil || p.Reason != tc.reason {
					t.Fatalf("problem %v, want reason %s", p, tc.reason)
				}
				return
			}
			if p != nil {
				t.Fatal(p)
			}
			if orig.Method != tc.method || orig.URL.Path != tc.path || orig.URL.RawQuery != tc.query || orig.Host != tc.host {
				t.Errorf("rebuilt %s %s ? %s host %s", orig.Method, orig.URL.Path, orig.URL.RawQuery, orig.Host)
			}
			if orig.Header.Get("Authorization") != "Bearer x" || orig.Header.Get("X-Original-URI") != "" || orig.Header.Get("X-Forwarded-Uri") != "" {
				t.Errorf("headers %v", orig.Header)
			}
			if r.Method != "GET" || r.URL.Path != "/gatehouse/auth" {
				t.Error("the subrequest itself was changed")
			}
		})
	}
}

// FuzzOriginal: whatever the proxy's headers say, Original either
// refuses or rebuilds a request whose method is a known one and whose
// path is absolute, and never changes the subrequest.
func FuzzOriginal(f *testing.F) {
	f.Add("GET", "/a?b=c", "")
	f.Add("DELETE", "/v1/knowledge/%2e%2e/x", "api.test")
	f.Add("POST", "/a;b", "x,y")
	f.Fuzz(func(t *testing.T, method, uri, host string) {
		r := httptest.NewRequest("GET", "http://gw.test/gatehouse/auth", nil)
		r.Header.Set("X-Original-Method", method)
		r.Header.Set("X-Original-URI", uri)
		r.Header.Set("X-Forwarded-Host", host)
		orig, p := Original(r, trust(true))
		if r.Method != "GET" || r.URL.Path != "/gatehouse/auth" {
			t.Fatal("the subrequest changed")
		}
		if p != nil {
			if p.Status < 400 || p.Status > 499 {
				t.Fatalf("status %d", p.Status)
			}
			return
		}
		if orig.Method != method || !strings.HasPrefix(orig.URL.Path, "/") {
			t.Fatalf("rebuilt %q %q", orig.Method, orig.URL.Path)
		}
	})
}

// TestOriginalMethodFieldAsInline: every _method query field that inline
// mode refuses (requestcheck.SiteMethod) is refused in forward-auth mode
// too: any case, PHP's mangled spellings, a ;-separated pair (which
// url.Query drops) and an empty value. Otherwise a POST judged by a POST
// rule reaches a framework that acts on it as DELETE.
func TestOriginalMethodFieldAsInline(t *testing.T) {
	t.Parallel()
	for _, uri := range []string{
		"/a?_METHOD=DELETE",
		"/a?.method=DELETE",
		"/a?%5Bmethod=DELETE",
		"/a?x=1;_method=DELETE",
		"/a?_method=",
		"/a?_Method=delete",
	} {
		t.Run(uri, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://gw.test/gatehouse/auth", nil)
			r.Header.Set("X-Original-Method", "POST")
			r.Header.Set("X-Original-URI", uri)
			_, p := Original(r, trust(true))
			if p == nil || p.Reason != "method_override" {
				t.Fatalf("problem %v, want method_override", p)
			}
		})
	}
}

// TestOriginalClientCopies: Caddy's forward_auth and Traefik set
// X-Forwarded-Method/-Uri but pass the client's other headers on, and
// nginx sets X-Original-* and passes the rest: a client's copy of the
// other pair must not decide what is judged. When the two pairs, or two
// values of one header, disagree, the subrequest is refused.
func TestOriginalClientCopies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		headers [][2]string
		reason  string
	}{
		{"client's X-Original-* beside Caddy's X-Forwarded-*",
			[][2]string{{"X-Original-Method", "GET"}, {"X-Original-URI", "/public"}, {"X-Forwarded-Method", "DELETE"}, {"X-Forwarded-Uri", "/admin"}}, "ambiguous_original"},
		{"client's method only",
			[][2]string{{"X-Original-Method", "GET"}, {"X-Forwarded-Method", "DELETE"}, {"X-Forwarded-Uri", "/admin"}}, "ambiguous_original"},
		{"client's URI only",
			[][2]string{{"X-Original-URI", "/public"}, {"X-Forwarded-Method", "DELETE"}, {"X-Forwarded-Uri", "/admin"}}, "ambiguous_original"},
		{"two values of one header",
			[][2]string{{"X-Forwarded-Method", "GET"}, {"X-Forwarded-Method", "DELETE"}, {"X-Forwarded-Uri", "/admin"}}, "ambiguous_original"},
		{"both pairs agree",
			[][2]string{{"X-Original-Method", "DELETE"}, {"X-Original-URI", "/admin"}, {"X-Forwarded-Method", "DELETE"}, {"X-Forwarded-Uri", "/admin"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://gw.test/gatehouse/auth", nil)
			for _, h := range tc.headers {
				r.Header.Add(h[0], h[1])
			}
			orig, p := Original(r, trust(true))
			if tc.reason == "" {
				if p != nil || orig.Method != "DELETE" || orig.URL.Path != "/admin" {
					t.Fatalf("%v %v", p, orig)
				}
				return
			}
			if p == nil || p.Reason != tc.reason {
				got := ""
				if orig != nil {
					got = orig.Method + " " + orig.URL.Path
				}
				t.Fatalf("problem %v (judged %s), want %s", p, got, tc.reason)
			}
		})
	}
}
