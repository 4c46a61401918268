package authstore

import (
	"testing"
	"time"
)

// The session benchmarks are read against BenchmarkSessionVsPATVerify: the
// design asks that a session check cost no more than a PAT check.

func benchSetup(b *testing.B) (*Store, string, string) {
	s := openSessStore(b, nil)
	u := sessUser(b, s, "alice")
	tok, _, err := s.CreatePAT(NewPAT{UserID: u.ID, Prefix: DefaultPrefix, Name: "bench", Scopes: []string{"a:b"}, ExpiresAt: time.Now().Add(time.Hour), CreatedVia: ViaAdmin}, AdminActor)
	if err != nil {
		b.Fatal(err)
	}
	sess := sessBrowser(b, s, u, time.Hour)
	jwt, err := s.IssueSessionJWT(sess, time.Now(), time.Now().Add(time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	return s, tok, jwt
}

// BenchmarkSessionVsPATVerify compares warm (cached) verification of a PAT
// and of a session JWT.
func BenchmarkSessionVsPATVerify(b *testing.B) {
	s, pat, jwt := benchSetup(b)
	b.Run("pat", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := s.VerifyPAT(pat, "192.0.2.1"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("session_cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, _, err := s.VerifySessionJWT(jwt, "192.0.2.1"); err != nil {
				b.Fatal(err)
			}
		}
	})
	// session_store: nothing cached, as after a restart: the JWT is parsed
	// and its HMAC checked, the session and user read from bbolt.
	b.Run("session_store", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.sess.jwts.clear()
			s.sessions.clear()
			s.users.clear()
			if _, _, _, err := s.VerifySessionJWT(jwt, "192.0.2.1"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pat_store", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.pats.clear()
			s.users.clear()
			if _, _, err := s.VerifyPAT(pat, "192.0.2.1"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
