package authstore

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestSessionJWTRoundTrip(t *testing.T) {
	c := newSessClock()
	s := openSessStore(t, c)
	alice := sessUser(t, s, "alice")
	sess := sessBrowser(t, s, alice, time.Hour)

	tok, err := s.IssueSessionJWT(sess, c.Now(), c.Now().Add(30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 { // cold, then cached
		st, got, u, err := s.VerifySessionJWT(tok, "")
		if err != nil || st.SessionID != sess.ID || got.ID != sess.ID || u.ID != alice.ID {
			t.Fatalf("verify %d: %v", i, err)
		}
		if !st.ExpiresAt.Equal(c.Now().Add(30 * time.Minute)) {
			t.Fatalf("exp %v", st.ExpiresAt)
		}
	}

	// Same inputs, same token: concurrent refreshes answer alike.
	if again, _ := s.IssueSessionJWT(sess, c.Now(), c.Now().Add(30*time.Minute)); again != tok {
		t.Error("IssueSessionJWT is not deterministic")
	}
	// exp is capped at the session's absolute expiry.
	long, _ := s.IssueSessionJWT(sess, c.Now(), c.Now().Add(48*time.Hour))
	if st, _, _, err := s.VerifySessionJWT(long, ""); err != nil || !st.ExpiresAt.Equal(sess.ExpiresAt) {
		t.Fatalf("cap: %v %v", err, st)
	}

	// Revocation wins over the warm JWT cache.
	if _, err := s.RevokeSession(sess.ID, AdminActor, "test"); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := s.VerifySessionJWT(tok, ""); !errors.Is(err, ErrRevoked) {
		t.Fatalf("revoked session's JWT: %v", err)
	}
}

func TestSessionJWTExpiry(t *testing.T) {
	c := newSessClock()
	s := openSessStore(t, c)
	sess := sessBrowser(t, s, sessUser(t, s, "alice"), time.Hour)
	tok, _ := s.IssueSessionJWT(sess, c.Now(), c.Now().Add(10*time.Minute))
	if _, _, _, err := s.VerifySessionJWT(tok, ""); err != nil { // now cached
		t.Fatal(err)
	}
	c.Advance(10*time.Minute + JWTLeeway - time.Second)
	if _, _, _, err := s.VerifySessionJWT(tok, ""); err != nil {
		t.Fatalf("inside the leeway: %v", err)
	}
	c.Advance(2 * time.Second)
	if _, _, _, err := s.VerifySessionJWT(tok, ""); !errors.Is(err, ErrExpired) {
		t.Fatalf("cached expired JWT: %v", err)
	}
	// Cold path (another store instance's view: parse fresh).
	s.sess.jwts.clear()
	if _, _, _, err := s.VerifySessionJWT(tok, ""); !errors.Is(err, ErrExpired) {
		t.Fatalf("expired JWT: %v", err)
	}
}

// TestSessionJWTRefusesForgeries feeds tokens an attacker could craft.
func TestSessionJWTRefusesForgeries(t *testing.T) {
	c := newSessClock()
	s := openSessStore(t, c)
	alice, bob := sessUser(t, s, "alice"), sessUser(t, s, "bob")
	sess := sessBrowser(t, s, alice, time.Hour)
	good, _ := s.IssueSessionJWT(sess, c.Now(), c.Now().Add(time.Hour))
	k, _ := s.currentSigningKey()

	claims := func(mod func(*sessionClaims)) *sessionClaims {
		cl := &sessionClaims{
			RegisteredClaims: jwt.RegisteredClaims{
				Issuer: JWTIssuer, Subject: alice.ID, Audience: jwt.ClaimStrings{JWTAudience},
				IssuedAt: jwt.NewNumericDate(c.Now()), ExpiresAt: jwt.NewNumericDate(c.Now().Add(time.Hour)),
			},
			SessionID: sess.ID,
		}
		if mod != nil {
			mod(cl)
		}
		return cl
	}
	sign := func(m jwt.SigningMethod, cl *sessionClaims, key any, hdr map[string]any) string {
		tk := jwt.NewWithClaims(m, cl)
		tk.Header["kid"] = k.kid
		for h, v := range hdr {
			tk.Header[h] = v
		}
		out, err := tk.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	other := openSessStore(t, c)
	otherSess := sessBrowser(t, other, sessUser(t, other, "alice"), time.Hour)
	foreign, _ := other.IssueSessionJWT(otherSess, c.Now(), c.Now().Add(time.Hour))
	parts := strings.Split(good, ".")
	noneHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT","kid":"` + k.kid + `"}`))

	cases := map[string]string{
		"alg none":             noneHeader + "." + parts[1] + ".",
		"HS384":                sign(jwt.SigningMethodHS384, claims(nil), k.key, nil),
		"RS256 with own key":   sign(jwt.SigningMethodRS256, claims(nil), rsaKey, map[string]any{"jwk": map[string]any{"kty": "RSA"}}),
		"jku header":           sign(jwt.SigningMethodHS256, claims(nil), k.key, map[string]any{"jku": "https://evil.example/keys"}),
		"unknown kid":          sign(jwt.SigningMethodHS256, claims(nil), k.key, map[string]any{"kid": "key_unknown"}),
		"no kid":               sign(jwt.SigningMethodHS256, claims(nil), k.key, map[string]any{"kid": nil}),
		"wrong key":            sign(jwt.SigningMethodHS256, claims(nil), []byte("0123456789abcdef0123456789abcdef"), nil),
		"other edge":           foreign,
		"wrong issuer":         sign(jwt.SigningMethodHS256, claims(func(c *sessionClaims) { c.Issuer = "someone" }), k.key, nil),
		"wrong audience":       sign(jwt.SigningMethodHS256, claims(func(c *sessionClaims) { c.Audience = jwt.ClaimStrings{"api"} }), k.key, nil),
		"no exp":               sign(jwt.SigningMethodHS256, claims(func(c *sessionClaims) { c.ExpiresAt = nil }), k.key, nil),
		"issued in the future": sign(jwt.SigningMethodHS256, claims(func(c *sessionClaims) { c.IssuedAt = jwt.NewNumericDate(c.ExpiresAt.Add(-time.Minute)) }), k.key, nil),
		"no sid":               sign(jwt.SigningMethodHS256, claims(func(c *sessionClaims) { c.SessionID = "" }), k.key, nil),
		"sub of another user":  sign(jwt.SigningMethodHS256, claims(func(c *sessionClaims) { c.Subject = bob.ID }), k.key, nil),
		"tampered payload":     parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"gatehouse","sub":"`+bob.ID+`","aud":["gatehouse-session"],"exp":4102444800,"iat":1,"sid":"`+sess.ID+`"}`)) + "." + parts[2],
		"truncated signature":  good[:len(good)-4],
		"garbage":              "a.b.c",
		"oversized":            good + strings.Repeat("A", MaxJWTLen),
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			if _, _, _, err := s.VerifySessionJWT(tok, ""); err == nil {
				t.Fatal("a forged token verified")
			}
		})
	}
	if _, _, _, err := s.VerifySessionJWT(good, ""); err != nil {
		t.Fatalf("the genuine token: %v", err)
	}
}

func TestSigningKeyRotationAndPersistence(t *testing.T) {
	c := newSessClock()
	s := openSessStore(t, c)
	sess := sessBrowser(t, s, sessUser(t, s, "alice"), time.Hour)
	before, _ := s.IssueSessionJWT(sess, c.Now(), c.Now().Add(time.Hour))
	oldKid := s.sess.current.Load().kid
	if _, _, _, err := s.VerifySessionJWT(before, ""); err != nil { // now cached as verified
		t.Fatal(err)
	}
	kid, err := s.RotateSigningKey(AdminActor)
	if err != nil || kid == oldKid {
		t.Fatalf("rotate: %v %s", err, kid)
	}
	after, _ := s.IssueSessionJWT(sess, c.Now(), c.Now().Add(time.Hour))
	if before == after {
		t.Fatal("rotation did not change the signing key")
	}
	if _, _, _, err := s.VerifySessionJWT(after, ""); err != nil {
		t.Errorf("a JWT of the new key: %v", err)
	}
	// The old key is gone, cached verifications included: a leaked key
	// signs nothing any more.
	if _, _, _, err := s.VerifySessionJWT(before, ""); !errors.Is(err, ErrMalformedToken) {
		t.Errorf("a JWT of the retired key: %v", err)
	}

	// A reopened store signs with the same current key, and still refuses
	// the old one.
	path := s.Path()
	s.Close()
	s2, err := Open(path, Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, _, _, err := s2.VerifySessionJWT(after, ""); err != nil {
		t.Errorf("after reopen: %v", err)
	}
	if _, _, _, err := s2.VerifySessionJWT(before, ""); err == nil {
		t.Error("the retired key verifies after reopen")
	}
	if again, _ := s2.IssueSessionJWT(sess, c.Now(), c.Now().Add(time.Hour)); again != after {
		t.Error("the reopened store signs with another key")
	}
}

// jwtSignatureVariants returns tok and the strings that differ from it
// only in the unused low bits of the signature's last base64url character
// (an HS256 signature is 32 bytes in 43 characters: 2 spare bits, so 3
// variants). Lenient base64 decoding reads all four as the same bytes.
func jwtSignatureVariants(t *testing.T, tok string) []string {
	t.Helper()
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	sig := tok[strings.LastIndexByte(tok, '.')+1:]
	spare := uint(len(sig)*6 - base64.RawURLEncoding.DecodedLen(len(sig))*8)
	if spare == 0 {
		t.Fatalf("signature of %d characters has no spare bits", len(sig))
	}
	last := strings.IndexByte(alphabet, tok[len(tok)-1])
	var out []string
	for v := 1; v < 1<<spare; v++ {
		out = append(out, tok[:len(tok)-1]+string(alphabet[last^v]))
	}
	return out
}

// TestSessionJWTOneEncoding: of the strings that lenient base64 decodes to
// a valid session JWT's bytes, only the one the store issued verifies,
// whether or not that one is already in the verified-JWT cache.
func TestSessionJWTOneEncoding(t *testing.T) {
	c := newSessClock()
	s := openSessStore(t, c)
	sess := sessBrowser(t, s, sessUser(t, s, "alice"), time.Hour)
	good, err := s.IssueSessionJWT(sess, c.Now(), c.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	sig := good[strings.LastIndexByte(good, '.')+1:]
	canonical, _ := base64.RawURLEncoding.Strict().DecodeString(sig)

	type variant struct{ name, tok string }
	var cases []variant
	for i, v := range jwtSignatureVariants(t, good) {
		// Each variant decodes leniently to the genuine signature: the
		// test is about encodings of one signature, not forgeries.
		if lenient, err := base64.RawURLEncoding.DecodeString(v[strings.LastIndexByte(v, '.')+1:]); err != nil || string(lenient) != string(canonical) {
			t.Fatalf("variant %d does not decode to the signature: %v", i, err)
		}
		cases = append(cases, variant{fmt.Sprintf("low bits %d", i+1), v})
	}
	mid := strings.LastIndexByte(good, '.') + 10
	cases = append(cases,
		variant{"LF in signature", good[:mid] + "\n" + good[mid:]},
		variant{"CR LF in signature", good[:mid] + "\r\n" + good[mid:]},
		variant{"padded signature", good + "="},
	)
	for _, warm := range []bool{false, true} {
		s.sess.jwts.clear()
		if warm {
			if _, _, _, err := s.VerifySessionJWT(good, ""); err != nil {
				t.Fatalf("the genuine token: %v", err)
			}
		}
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s/warm=%v", tc.name, warm), func(t *testing.T) {
				if _, _, _, err := s.VerifySessionJWT(tc.tok, ""); !errors.Is(err, ErrMalformedToken) {
					t.Fatalf("a variant encoding verified or failed oddly: %v", err)
				}
			})
		}
		// The refused variants left the genuine token alone.
		if _, _, _, err := s.VerifySessionJWT(good, ""); err != nil {
			t.Fatalf("the genuine token after its variants: %v", err)
		}
	}
}
