package client

import (
	"maps"
	"testing"
)

func TestParseChallenge(t *testing.T) {
	tests := []struct {
		in     string
		scheme string
		params map[string]string
	}{
		{`Bearer realm="gatehouse"`, "Bearer", map[string]string{"realm": "gatehouse"}},
		{`Bearer realm="gatehouse", error="invalid_token", error_description="token expired"`, "Bearer",
			map[string]string{"realm": "gatehouse", "error": "invalid_token", "error_description": "token expired"}},
		{`Bearer realm="gatehouse", error="insufficient_scope", scope="papers:write wiki:read"`, "Bearer",
			map[string]string{"realm": "gatehouse", "error": "insufficient_scope", "scope": "papers:write wiki:read"}},
		{`bearer Error=invalid_token,error_description="say \"hi\", then, go"`, "bearer",
			map[string]string{"error": "invalid_token", "error_description": `say "hi", then, go`}},
		{`Bearer realm = "a" , ,error = x`, "Bearer", map[string]string{"realm": "a", "error": "x"}},
		{`Bearer realm="a", Basic realm="b"`, "Bearer", map[string]string{"realm": "a"}},
		{`Bearer realm="unterminated`, "Bearer", map[string]string{"realm": "unterminated"}},
		{`Bearer`, "Bearer", map[string]string{}},
		{``, "", map[string]string{}},
		{`Bearer realm="a", realm="b"`, "Bearer", map[string]string{"realm": "a"}},
	}
	for _, tt := range tests {
		scheme, params := parseChallenge(tt.in)
		if scheme != tt.scheme || !maps.Equal(params, tt.params) {
			t.Errorf("parseChallenge(%q) = %q, %v; want %q, %v", tt.in, scheme, params, tt.scheme, tt.params)
		}
	}
}

func TestBearerChallengePicksBearer(t *testing.T) {
	params, ok := bearerChallenge([]string{`Basic realm="x"`, `Bearer realm="gatehouse", error="invalid_token"`})
	if !ok || params["error"] != "invalid_token" {
		t.Fatalf("bearerChallenge = %v, %v", params, ok)
	}
	if _, ok := bearerChallenge([]string{`Basic realm="x"`}); ok {
		t.Fatal("found a Bearer challenge among Basic ones")
	}
}

func FuzzParseChallenge(f *testing.F) {
	for _, s := range []string{
		`Bearer realm="gatehouse", error="invalid_token", error_description="token expired"`,
		`Bearer realm="a\"b", scope="x y"`, `Bearer ,,,=`, `Bearer a=`, `Bearer a="\`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, params := parseChallenge(s)
		if len(params) > len(s) {
			t.Fatalf("%d params from %d bytes", len(params), len(s))
		}
	})
}
