package requestcheck

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestMethod: only known methods spelled in upper case pass (class 1), so
// "delete" cannot slip past a DELETE rule to an upstream that upper-cases.
func TestMethod(t *testing.T) {
	for _, tc := range []struct {
		method string
		ok     bool
	}{
		{"GET", true}, {"HEAD", true}, {"POST", true}, {"PUT", true}, {"PATCH", true},
		{"DELETE", true}, {"OPTIONS", true}, {"TRACE", true}, {"CONNECT", true},
		{"PROPFIND", true}, {"MKCOL", true}, {"QUERY", true}, {"VERSION-CONTROL", true},
		{"delete", false}, {"Delete", false}, {"dELETE", false}, {"Post", false}, {"get", false},
		{"DELET", false}, {"FOO", false}, {"", false}, {"GET ", false}, {"G\u0130T", false},
		{"propfind", false},
	} {
		p := Method(tc.method)
		if (p == nil) != tc.ok {
			t.Errorf("%q: problem %v, want ok=%v", tc.method, p, tc.ok)
		}
		if p != nil && (p.Status != 400 || p.Reason != "unknown_method") {
			t.Errorf("%q: %+v", tc.method, p)
		}
	}
}

// TestSiteMethodStripsOverrides: by default, override headers are removed
// in every spelling, and a _method field is refused (class 2).
func TestSiteMethodStripsOverrides(t *testing.T) {
	for _, k := range []string{"X-HTTP-Method-Override", "x-http-method-override", "X-Http-Method", "X-Method-Override", "X_HTTP_METHOD_OVERRIDE", "x.method.override"} {
		r := httptest.NewRequest("GET", "/api/x", nil)
		r.Header[k] = []string{"DELETE"}
		r.Header.Set("X-Other", "1")
		m, p := SiteMethod(r, false)
		if p != nil || m != "GET" {
			t.Errorf("%s: %q %v", k, m, p)
		}
		if len(r.Header) != 1 || r.Header.Get("X-Other") != "1" {
			t.Errorf("%s: headers left %v", k, r.Header)
		}
	}
}

// multipartBody is a multipart/form-data body (boundary "b") of one field.
func multipartBody(name, value string) string {
	return "--b\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n--b--\r\n"
}

func TestSiteMethodFields(t *testing.T) {
	form := "application/x-www-form-urlencoded"
	multi := "multipart/form-data; boundary=b"
	for _, tc := range []struct {
		name, method, target, ctype, body string
		allow                             bool
		want                              string // method judged, or "" for a refusal
		status                            int
	}{
		{"plain GET", "GET", "/api/x?a=1", "", "", false, "GET", 0},
		{"query _method", "GET", "/api/x?_method=DELETE", "", "", false, "", 400},
		{"query encoded key", "GET", "/api/x?%5Fmethod=DELETE", "", "", false, "", 400},
		{"query encoded letters", "GET", "/api/x?_%6Dethod=DELETE", "", "", false, "", 400},
		{"query upper key", "POST", "/api/x?_METHOD=DELETE", "", "", false, "", 400},
		{"query PHP dot", "POST", "/api/x?a=1&.method=DELETE", "", "", false, "", 400},
		{"query PHP space", "POST", "/api/x?+method=DELETE", "", "", false, "", 400},
		{"query semicolon", "GET", "/api/x?a=1;_method=DELETE", "", "", false, "", 400},
		{"query lookalike key", "GET", "/api/x?my_method=x&methods=y", "", "", false, "GET", 0},
		{"form _method", "POST", "/api/x", form, "a=1&_method=DELETE", false, "", 400},
		{"form with charset", "POST", "/api/x", form + "; charset=utf-8", "_method=delete", false, "", 400},
		{"form encoded key", "POST", "/api/x", form, "%5fmethod=DELETE", false, "", 400},
		{"form without override", "POST", "/api/x", form, "title=method&b=2", false, "POST", 0},
		{"json body not searched", "POST", "/api/x", "application/json", `{"_method":"DELETE"}`, false, "POST", 0},
		{"form type with a bad parameter", "POST", "/api/x", form + "; charset", "_method=DELETE", false, "", 400},
		{"form type with a double semicolon", "POST", "/api/x", form + ";;", "_method=DELETE", false, "", 400},
		{"form type in a list", "POST", "/api/x", form + ",text/plain", "_method=DELETE", false, "", 400},
		{"form type in capitals", "POST", "/api/x", "Application/X-WWW-Form-URLEncoded", "_method=DELETE", false, "", 400},
		{"multipart _method", "POST", "/api/x", multi, multipartBody("_method", "DELETE"), false, "", 400},
		{"multipart PHP key", "POST", "/api/x", multi, multipartBody(".method", "DELETE"), false, "", 400},
		{"multipart without override", "POST", "/api/x", multi, multipartBody("title", "_method"), false, "POST", 0},
		{"multipart allowed", "POST", "/api/x", multi, multipartBody("_method", "put"), true, "PUT", 0},
		{"large multipart passes", "POST", "/api/x", multi, multipartBody("file", strings.Repeat("x", maxFormScan)), false, "POST", 0},
		{"form too large", "POST", "/api/x", form, "a=" + strings.Repeat("x", maxFormScan), false, "", 413},
		{"allowed query", "POST", "/api/x?_method=delete", "", "", true, "DELETE", 0},
		{"allowed form", "POST", "/api/x", form, "_method=PUT", true, "PUT", 0},
		{"allowed unknown", "POST", "/api/x?_method=EXPLODE", "", "", true, "", 400},
		{"allowed disagreeing", "POST", "/api/x?_method=PUT", form, "_method=DELETE", true, "", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
			if tc.ctype != "" {
				r.Header.Set("Content-Type", tc.ctype)
			}
			m, p := SiteMethod(r, tc.allow)
			switch {
			case tc.want == "" && (p == nil || p.Status != tc.status):
				t.Fatalf("got %q %v, want status %d", m, p, tc.status)
			case tc.want != "" && (p != nil || m != tc.want):
				t.Fatalf("got %q %v, want %s", m, p, tc.want)
			}
			if p == nil {
				// The body still reaches the upstream whole.
				b, _ := io.ReadAll(r.Body)
				if string(b) != tc.body {
					t.Errorf("body after the check: %q", b)
				}
			}
		})
	}
}

// TestOverrideOnlyOnPost: frameworks honour overrides on POST only, so
// on any other method an allowed override is refused rather than judged
// while the upstream acts on the real method.
func TestOverrideOnlyOnPost(t *testing.T) {
	for _, target := range []string{"/api/x?_method=DELETE", "/api/x"} {
		for _, method := range []string{"GET", "HEAD", "PUT", "DELETE"} {
			r := httptest.NewRequest(method, target, nil)
			if target == "/api/x" {
				r.Header.Set("X-HTTP-Method-Override", "DELETE")
			}
			if m, p := SiteMethod(r, true); p == nil || p.Status != 400 {
				t.Errorf("%s %s: %q %v, want a refusal", method, target, m, p)
			}
		}
	}
}

// TestSiteMethodAllowedHeaders: with overrides allowed, the headers stay
// and the rules judge the overridden method, upper-cased; overrides that
// disagree or name no method are refused.
func TestSiteMethodAllowedHeaders(t *testing.T) {
	for _, tc := range []struct {
		headers map[string]string
		want    string
	}{
		{map[string]string{"X-HTTP-Method-Override": "delete"}, "DELETE"},
		{map[string]string{"X-HTTP-Method": "PUT", "X-Method-Override": " put "}, "PUT"},
		{map[string]string{"X-HTTP-Method": "PUT", "X-Method-Override": "DELETE"}, ""},
		{map[string]string{"X-HTTP-Method-Override": "NOPE"}, ""},
		{map[string]string{}, "POST"},
	} {
		r := httptest.NewRequest("POST", "/api/x", nil)
		for k, v := range tc.headers {
			r.Header.Set(k, v)
		}
		m, p := SiteMethod(r, true)
		if tc.want == "" {
			if p == nil || p.Status != http.StatusBadRequest {
				t.Errorf("%v: %q %v, want a refusal", tc.headers, m, p)
			}
			continue
		}
		if p != nil || m != tc.want || len(r.Header) != len(tc.headers) {
			t.Errorf("%v: %q %v headers %v", tc.headers, m, p, r.Header)
		}
	}
}
