package integration

import (
	"strings"
	"testing"
)

// jwtVariants returns the strings that differ from a session JWT only in
// the unused low bits of the signature's last base64url character (an
// HS256 signature is 32 bytes in 43 characters: 2 spare bits). A lenient
// base64 decoder reads each as the same signature.
func jwtVariants(jwt string) []string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, jwt[len(jwt)-1])
	var out []string
	for v := 1; v < 4; v++ {
		out = append(out, jwt[:len(jwt)-1]+string(alphabet[last^v]))
	}
	return out
}

// TestSessionJWTVariantEncodings: a browser session JWT and a CLI access
// token each have exactly one accepted encoding. Their variants are
// refused with 401 invalid_token as a Bearer token and as the session
// cookie, before and after the genuine token was seen (and cached).
func TestSessionJWTVariantEncodings(t *testing.T) {
	g := newSessionGateway(t, "")
	g.addUserWithPassword("alice", "alice password 1")
	browserJWT := g.cookieClient().mustLogin("alice", "alice password 1")
	cliJWT := g.cliLogin("alice", "alice password 1").AccessToken

	for _, tc := range []struct {
		name, jwt string
		carriers  []string
	}{
		{"browser session", browserJWT, []string{"Authorization: Bearer ", "Cookie: gatehouse_session="}},
		{"CLI access token", cliJWT, []string{"Authorization: Bearer "}},
	} {
		for _, carrier := range tc.carriers {
			name := tc.name + " in " + strings.SplitN(carrier, ":", 2)[0]
			t.Run(name, func(t *testing.T) {
				for i, v := range jwtVariants(tc.jwt) {
					resp, body := g.get("/api/whoami", carrier+v)
					if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
						t.Errorf("variant %d: %d %q %s", i+1, resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
					}
				}
				if resp, body := g.get("/api/whoami", carrier+tc.jwt); resp.StatusCode != 200 {
					t.Fatalf("the genuine token: %d %s", resp.StatusCode, body)
				}
				for i, v := range jwtVariants(tc.jwt) {
					if resp, body := g.get("/api/whoami", carrier+v); resp.StatusCode != 401 {
						t.Errorf("variant %d once the genuine token is cached: %d %s", i+1, resp.StatusCode, body)
					}
				}
			})
		}
	}
	g.assertNotLogged("alice password 1", browserJWT, cliJWT)
}
