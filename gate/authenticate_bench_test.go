package gate

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
)

// BenchmarkAuthenticate measures gate.Authenticate, the proxy's hot
// path, for each credential: a PAT, a session JWT as a Bearer token and
// as a cookie (warm caches), and a session JWT with nothing cached (as
// after a restart). The design asks that a session cost no more than a
// PAT.
func BenchmarkAuthenticate(b *testing.B) {
	g, s := testGate(b, config.Global{TokenPrefix: "qat_", Scopes: []string{"papers:read"}})
	u, err := s.CreateUser(authstore.NewUser{Login: "alice", Tier: "free"}, authstore.AdminActor)
	if err != nil {
		b.Fatal(err)
	}
	pat := mintPAT(b, g, s, u, []string{"papers:read"})
	sess, err := s.CreateSession(authstore.NewSession{UserID: u.ID, Kind: authstore.SessionBrowser, TTL: time.Hour}, authstore.AdminActor)
	if err != nil {
		b.Fatal(err)
	}
	jwt, err := s.IssueSessionJWT(sess, time.Now(), time.Now().Add(time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, header, value string) {
		r := httptest.NewRequest("GET", "/api/papers/1", nil)
		r.Header.Set(header, value)
		b.ReportAllocs()
		for b.Loop() {
			id, d := g.Authenticate(r)
			if d != nil || id == nil {
				b.Fatalf("refused: %+v", d)
			}
		}
	}
	b.Run("pat", func(b *testing.B) { run(b, "Authorization", "Bearer "+pat) })
	b.Run("session_bearer", func(b *testing.B) { run(b, "Authorization", "Bearer "+jwt) })
	b.Run("session_cookie", func(b *testing.B) { run(b, "Cookie", SessionCookie+"="+jwt) })
	// session_new_jwt: a JWT seen for the first time (after a login or a
	// renewal): parse and HMAC, session and user from the warm caches.
	b.Run("session_new_jwt", func(b *testing.B) {
		r := httptest.NewRequest("GET", "/api/papers/1", nil)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			b.StopTimer()
			i++
			fresh, err := s.IssueSessionJWT(sess, time.Now(), time.Now().Add(time.Hour+time.Duration(i)*time.Second))
			if err != nil {
				b.Fatal(err)
			}
			r.Header.Set("Authorization", "Bearer "+fresh)
			b.StartTimer()
			if id, d := g.Authenticate(r); d != nil || id == nil {
				b.Fatalf("refused: %+v", d)
			}
		}
	})
}
