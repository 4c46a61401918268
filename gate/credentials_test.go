package gate

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/problem"
)

func TestBearerToken(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		headers []string
		tok     string
		bad     bool
	}{
		{"none", nil, "", false},
		{"bearer", []string{"Bearer abc.DEF_ghi-~+/="}, "abc.DEF_ghi-~+/=", false},
		{"scheme is case-insensitive", []string{"bearer abc"}, "abc", false},
		{"extra spaces", []string{"Bearer    abc"}, "abc", false},
		{"two headers", []string{"Bearer a", "Bearer b"}, "", true},
		{"empty", []string{"Bearer "}, "", true},
		{"scheme only", []string{"Bearer"}, "", true},
		{"basic", []string{"Basic YWxhZGRpbjpvcGVuc2VzYW1l"}, "", true},
		{"comma-joined", []string{"Bearer a, Bearer b"}, "", true},
		{"non-ASCII", []string{"Bearer tök"}, "", true},
		{"control byte", []string{"Bearer a\x01b"}, "", true},
		{"padding in the middle", []string{"Bearer a=b"}, "", true},
		{"too large", []string{"Bearer " + strings.Repeat("a", maxAuthorizationLen)}, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/", nil)
			for _, h := range tc.headers {
				r.Header.Add("Authorization", h)
			}
			tok, d := BearerToken(r)
			if tc.bad != (d != nil) {
				t.Fatalf("denial = %v, want bad=%v", d, tc.bad)
			}
			if d != nil && (d.Status != http.StatusBadRequest || d.Code != "invalid_request") {
				t.Errorf("denial %d %s", d.Status, d.Code)
			}
			if tok != tc.tok {
				t.Errorf("token %q, want %q", tok, tc.tok)
			}
		})
	}
}

// FuzzBearerToken feeds arbitrary Authorization headers to the parser: it
// must never panic, and whatever it accepts must be a bounded token68.
func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{"Bearer gth_abc", "Bearer ", "Basic x", "bearer a.b.c", "Bearer \xff", "Bearer a==", "Bearer =", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["Authorization"] = []string{v}
		tok, d := BearerToken(r)
		if d != nil {
			if d.Status != http.StatusBadRequest {
				t.Fatalf("status %d for %q", d.Status, v)
			}
			return
		}
		if tok == "" || len(tok) > maxAuthorizationLen || !isToken68(tok) {
			t.Fatalf("accepted %q from %q", tok, v)
		}
	})
}

func TestChallenge(t *testing.T) {
	t.Parallel()
	d := problem.InsufficientScope("papers:write", "papers:write")
	want := `Bearer realm="gatehouse", error="insufficient_scope", error_description="insufficient scope: this token lacks papers:write", scope="papers:write"`
	if got := problem.ChallengeFor("gatehouse", d); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := problem.ChallengeFor("r", problem.Unauthenticated()); got != `Bearer realm="r"` {
		t.Errorf("no-credential challenge %s", got)
	}
}
