package authstore

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testClock is a settable clock for expiry tests.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func openTest(t testing.TB, o Options) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gh.db")
	s, err := Open(path, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func mustUser(t testing.TB, s *Store, login string) *User {
	t.Helper()
	u, err := s.CreateUser(NewUser{Login: login, Tier: "free"}, AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func mustPAT(t testing.TB, s *Store, u *User, expires time.Time, scopes ...string) (string, *PAT) {
	t.Helper()
	tok, p, err := s.CreatePAT(NewPAT{UserID: u.ID, Prefix: "gth_", Name: "t", Scopes: scopes, ExpiresAt: expires, CreatedVia: ViaAdmin}, AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	return tok, p
}

func TestPATLifecycle(t *testing.T) {
	clock := &testClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s, _ := openTest(t, Options{Now: clock.Now})
	alice := mustUser(t, s, "Alice")
	if alice.Login != "alice" {
		t.Errorf("login not normalised: %q", alice.Login)
	}
	tok, p := mustPAT(t, s, alice, clock.Now().Add(48*time.Hour), "wiki:read")
	if p.Hint != TokenHint("gth_", tok) || strings.Contains(p.Hint, tok[8:]) {
		t.Errorf("hint %q", p.Hint)
	}

	got, owner, err := s.VerifyPAT(tok, "10.0.0.1")
	if err != nil || got.ID != p.ID || owner.ID != alice.ID {
		t.Fatalf("verify: %v %v %v", got, owner, err)
	}

	// Nothing but the hash is stored: the plaintext is not in the file.
	s.Close()
	raw, _ := os.ReadFile(s.Path())
	if strings.Contains(string(raw), tok) {
		t.Fatal("the plaintext token is in the store file")
	}
	s, err = Open(s.Path(), Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	if _, _, err := s.VerifyPAT(tok, ""); err != nil {
		t.Fatalf("after reopen: %v", err)
	}
	clock.Advance(49 * time.Hour)
	if _, _, err := s.VerifyPAT(tok, ""); !errors.Is(err, ErrExpired) {
		t.Fatalf("expired token: %v", err)
	}
	clock.Advance(-49 * time.Hour)

	if _, err := s.RevokePAT(p.ID, AdminActor); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.VerifyPAT(tok, ""); !errors.Is(err, ErrRevoked) {
		t.Fatalf("revoked token: %v", err)
	}
	if _, err := s.RevokePAT(p.ID, AdminActor); err != nil {
		t.Errorf("revoking twice: %v", err)
	}
	if _, err := s.RevokePAT("tok_nope", AdminActor); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoking unknown: %v", err)
	}
	other, _ := NewToken("gth_")
	if _, _, err := s.VerifyPAT(other, ""); !errors.Is(err, ErrUnknownToken) {
		t.Errorf("unknown token: %v", err)
	}

	events, _ := s.Audit("", 0)
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action)
	}
	if want := "token.revoked token.created user.created"; strings.Join(actions, " ") != want {
		t.Errorf("audit trail %v, want %s", actions, want)
	}
}

func TestDisabledUserTokensStop(t *testing.T) {
	s, _ := openTest(t, Options{})
	u := mustUser(t, s, "bob")
	tok, _ := mustPAT(t, s, u, time.Time{}, "a:b")
	if _, _, err := s.VerifyPAT(tok, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateUser("bob", AdminActor, "disabled", func(u *User) error { u.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.VerifyPAT(tok, ""); !errors.Is(err, ErrUserDisabled) {
		t.Fatalf("disabled owner: %v", err)
	}
	if _, _, err := s.CreatePAT(NewPAT{UserID: u.ID, Prefix: "gth_", Name: "x", CreatedVia: ViaAdmin}, AdminActor); !errors.Is(err, ErrUserDisabled) {
		t.Fatalf("minting for a disabled user: %v", err)
	}
}

func TestUsers(t *testing.T) {
	s, _ := openTest(t, Options{})
	mustUser(t, s, "zed")
	mustUser(t, s, "amy")
	if _, err := s.CreateUser(NewUser{Login: "AMY"}, AdminActor); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate login: %v", err)
	}
	for _, bad := range []string{"", " ", "a b", "a/b", strings.Repeat("x", 65), "ünï"} {
		if _, err := s.CreateUser(NewUser{Login: bad}, AdminActor); err == nil {
			t.Errorf("login %q accepted", bad)
		}
	}
	users, _ := s.Users()
	if len(users) != 2 || users[0].Login != "amy" || users[1].Login != "zed" {
		t.Errorf("users %v", users)
	}
	if n, _ := s.CountUsers(); n != 2 {
		t.Errorf("count %d", n)
	}
	if _, err := s.UpdateUser("nobody", AdminActor, "", func(*User) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Errorf("update unknown: %v", err)
	}
	boom := errors.New("abort")
	if _, err := s.UpdateUser("amy", AdminActor, "", func(u *User) error { u.Tier = "pro"; return boom }); !errors.Is(err, boom) {
		t.Errorf("aborted update: %v", err)
	}
	if u, _ := s.UserByLogin("amy"); u.Tier != "free" {
		t.Error("an aborted update was written")
	}
}

func TestListPATs(t *testing.T) {
	s, _ := openTest(t, Options{})
	a, b := mustUser(t, s, "a"), mustUser(t, s, "b")
	_, p1 := mustPAT(t, s, a, time.Time{}, "x:y")
	_, p2 := mustPAT(t, s, b, time.Time{}, "x:y")
	_, p3 := mustPAT(t, s, a, time.Time{}, "x:y")
	ids := func(ps []*PAT) (out []string) {
		for _, p := range ps {
			out = append(out, p.ID)
		}
		return out
	}
	mine, _ := s.PATs(a.ID)
	if got := ids(mine); len(got) != 2 || got[0] != p1.ID || got[1] != p3.ID {
		t.Errorf("a's tokens %v", got)
	}
	all, _ := s.PATs("")
	if got := ids(all); len(got) != 3 || got[1] != p2.ID {
		t.Errorf("all tokens %v", got)
	}
	if problems, err := s.Check(); err != nil || len(problems) != 0 {
		t.Errorf("check: %v %v", problems, err)
	}
}

// TestRevokeBeatsConcurrentFill pins the cache race: a verification that
// read the record before a revoke committed must not put it back in the
// cache afterwards.
func TestRevokeBeatsConcurrentFill(t *testing.T) {
	s, _ := openTest(t, Options{})
	u := mustUser(t, s, "race")
	tok, p := mustPAT(t, s, u, time.Time{}, "a:b")
	h := HashToken(tok)

	gen := s.pats.generation() // a reader starts…
	stale := &patEntry{pat: p} // …and reads the record before the revoke
	if _, err := s.RevokePAT(p.ID, AdminActor); err != nil {
		t.Fatal(err)
	}
	s.pats.fill(h, stale, gen) // the reader's late fill must be dropped
	if _, _, err := s.VerifyPAT(tok, ""); !errors.Is(err, ErrRevoked) {
		t.Fatalf("stale cache entry won: %v", err)
	}
}

func TestConcurrentVerifyAndRevoke(t *testing.T) {
	s, _ := openTest(t, Options{})
	u := mustUser(t, s, "many")
	tok, p := mustPAT(t, s, u, time.Time{}, "a:b")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 500 {
				s.VerifyPAT(tok, "")
			}
		})
	}
	s.RevokePAT(p.ID, AdminActor)
	wg.Wait()
	if _, _, err := s.VerifyPAT(tok, ""); !errors.Is(err, ErrRevoked) {
		t.Fatalf("after concurrent use: %v", err)
	}
}

func TestLastUsedIsBatched(t *testing.T) {
	clock := &testClock{now: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	s, _ := openTest(t, Options{Now: clock.Now, TouchInterval: time.Hour})
	u := mustUser(t, s, "busy")
	tok, p := mustPAT(t, s, u, time.Time{}, "a:b")
	for range 100 {
		s.VerifyPAT(tok, "192.0.2.1")
	}
	if got, _ := s.PAT(p.ID); !got.LastUsedAt.IsZero() {
		t.Fatal("last use written on the request path")
	}
	s.FlushTouches()
	got, _ := s.PAT(p.ID)
	if !got.LastUsedAt.Equal(clock.Now()) || got.LastUsedIP != "192.0.2.1" {
		t.Fatalf("after flush: %v %q", got.LastUsedAt, got.LastUsedIP)
	}
	// Within the minute, further uses are not noted again.
	clock.Advance(30 * time.Second)
	s.VerifyPAT(tok, "192.0.2.2")
	s.FlushTouches()
	if got, _ := s.PAT(p.ID); got.LastUsedIP != "192.0.2.1" {
		t.Errorf("noted twice within a minute: %q", got.LastUsedIP)
	}
	clock.Advance(31 * time.Second)
	s.VerifyPAT(tok, "192.0.2.3")
	s.Close() // closing flushes what is pending
	s2, err := Open(s.Path(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got, _ := s2.PAT(p.ID); got.LastUsedIP != "192.0.2.3" {
		t.Errorf("close did not flush: %q", got.LastUsedIP)
	}
}

func TestLockedStoreFailsFast(t *testing.T) {
	_, path := openTest(t, Options{})
	start := time.Now()
	_, err := Open(path, Options{Timeout: 200 * time.Millisecond})
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), path) {
		t.Fatalf("second open: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
}

func TestBackupIsAnOpenableCopy(t *testing.T) {
	s, _ := openTest(t, Options{})
	u := mustUser(t, s, "keep")
	tok, _ := mustPAT(t, s, u, time.Time{}, "a:b")
	dst := filepath.Join(t.TempDir(), "copy.db")
	f, _ := os.Create(dst)
	if _, err := s.Backup(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	c, err := Open(dst, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, _, err := c.VerifyPAT(tok, ""); err != nil {
		t.Errorf("token missing from the backup: %v", err)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	s, path := openTest(t, Options{})
	s.localUpdate(func(tx *Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchemaVersion, []byte{0, 0, 0, 0, 0, 0, 0, 99})
	})
	s.Close()
	if _, err := Open(path, Options{}); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("opening a newer schema: %v", err)
	}
}
