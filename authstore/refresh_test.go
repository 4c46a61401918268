package authstore

import (
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRefreshRotation(t *testing.T) {
	c := newSessClock()
	s := openSessStore(t, c)
	alice := sessUser(t, s, "alice")
	sess, t0, err := s.CreateCLISession(NewSession{UserID: alice.ID, TTL: 24 * time.Hour, IP: "192.0.2.1"}, AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	if sess.Kind != SessionCLI || !strings.HasPrefix(t0, RefreshPrefix) || CheckToken(RefreshPrefix, t0) != nil {
		t.Fatalf("session %+v token shape %q", sess, t0[:6])
	}

	r1, err := s.RotateRefresh(t0, DefaultRefreshGrace, AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	if r1.RefreshToken == t0 || r1.Session.ID != sess.ID || r1.User.ID != alice.ID || !r1.RotatedAt.Equal(c.Now()) {
		t.Fatalf("rotation %+v", r1)
	}
	c.Advance(time.Minute)
	r2, err := s.RotateRefresh(r1.RefreshToken, DefaultRefreshGrace, AdminActor)
	if err != nil || r2.RefreshToken == r1.RefreshToken {
		t.Fatalf("second rotation: %v", err)
	}

	// The store holds no plaintext: neither token appears in the file.
	s.localView(func(tx *Tx) error {
		return tx.Bucket(bucketRefresh).ForEach(func(k, v []byte) error {
			for _, tok := range []string{t0, r1.RefreshToken, r2.RefreshToken} {
				if strings.Contains(string(v), tok) || strings.Contains(string(k), tok) {
					t.Errorf("plaintext refresh token stored")
				}
			}
			return nil
		})
	})
	// The predecessor's sealed successor is wiped once its grace passed,
	// by the housekeeping.
	s.housekeep(time.Now())
	var rec RefreshToken
	h := HashToken(t0)
	s.localView(func(tx *Tx) error { return getJSON(tx.Bucket(bucketRefresh), h[:], &rec) })
	if rec.Successor != nil {
		t.Error("sealed successor kept after its grace window")
	}
	// The session points at the current head.
	head := HashToken(r2.RefreshToken)
	if got, _ := s.Session(sess.ID); got.Refresh != hex.EncodeToString(head[:]) {
		t.Error("session head not updated")
	}
}

func TestRefreshGraceAndReuse(t *testing.T) {
	c := newSessClock()
	s := openSessStore(t, c)
	alice := sessUser(t, s, "alice")
	sess, t0, _ := s.CreateCLISession(NewSession{UserID: alice.ID, TTL: 24 * time.Hour}, AdminActor)

	first, err := s.RotateRefresh(t0, DefaultRefreshGrace, AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	c.Advance(DefaultRefreshGrace - time.Second)
	second, err := s.RotateRefresh(t0, DefaultRefreshGrace, AdminActor)
	if err != nil {
		t.Fatalf("inside grace: %v", err)
	}
	if second.RefreshToken != first.RefreshToken || !second.RotatedAt.Equal(first.RotatedAt) {
		t.Fatal("two refreshes inside the grace window disagree")
	}

	c.Advance(2 * time.Second)
	if _, err := s.RotateRefresh(t0, DefaultRefreshGrace, AdminActor); !errors.Is(err, ErrRefreshReuse) {
		t.Fatalf("reuse after grace: %v", err)
	}
	// The whole family is gone: the legitimate successor no longer works
	// and the session is revoked.
	if _, err := s.RotateRefresh(first.RefreshToken, DefaultRefreshGrace, AdminActor); !errors.Is(err, ErrRevoked) {
		t.Fatalf("successor after reuse: %v", err)
	}
	if _, _, err := verifySession(s, sess.ID); !errors.Is(err, ErrRevoked) {
		t.Fatalf("session after reuse: %v", err)
	}
	got, _ := s.Session(sess.ID)
	if got.RevokedReason != "refresh token reuse" {
		t.Errorf("reason %q", got.RevokedReason)
	}
}

func TestRefreshConcurrentRotations(t *testing.T) {
	s := openSessStore(t, nil)
	alice := sessUser(t, s, "alice")
	_, t0, _ := s.CreateCLISession(NewSession{UserID: alice.ID, TTL: time.Hour}, AdminActor)
	const n = 8
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		got = map[string]int{}
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := s.RotateRefresh(t0, DefaultRefreshGrace, AdminActor)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			got[r.RefreshToken]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(got) != 1 {
		t.Fatalf("%d concurrent refreshes produced %d different tokens", n, len(got))
	}
}

func TestRefreshRefusals(t *testing.T) {
	c := newSessClock()
	s := openSessStore(t, c)
	alice := sessUser(t, s, "alice")
	sess, tok, _ := s.CreateCLISession(NewSession{UserID: alice.ID, TTL: time.Hour}, AdminActor)

	forged, _ := NewToken(RefreshPrefix)
	if _, err := s.RotateRefresh(forged, DefaultRefreshGrace, AdminActor); !errors.Is(err, ErrUnknownToken) {
		t.Errorf("unknown: %v", err)
	}
	typo := tok[:len(tok)-1] + "x"
	if typo == tok { // the checksum ended in x already (1 in 62)
		typo = tok[:len(tok)-1] + "y"
	}
	if _, err := s.RotateRefresh(typo, DefaultRefreshGrace, AdminActor); err == nil {
		t.Error("a token with a bad checksum rotated")
	}
	if _, err := s.RotateRefresh("qat_"+tok[4:], DefaultRefreshGrace, AdminActor); err == nil {
		t.Error("a token with another prefix rotated")
	}

	s.UpdateUser("alice", AdminActor, "disabled", func(u *User) error { u.Disabled = true; return nil })
	if _, err := s.RotateRefresh(tok, DefaultRefreshGrace, AdminActor); !errors.Is(err, ErrUserDisabled) {
		t.Errorf("disabled user: %v", err)
	}
	s.UpdateUser("alice", AdminActor, "enabled", func(u *User) error { u.Disabled = false; return nil })

	c.Advance(time.Hour)
	if _, err := s.RotateRefresh(tok, DefaultRefreshGrace, AdminActor); !errors.Is(err, ErrExpired) {
		t.Errorf("expired family: %v", err)
	}
	c.Advance(-time.Hour)
	s.RevokeSession(sess.ID, AdminActor, "logout")
	if _, err := s.RotateRefresh(tok, DefaultRefreshGrace, AdminActor); !errors.Is(err, ErrRevoked) {
		t.Errorf("revoked family: %v", err)
	}
}

func TestSealedSuccessorNeedsTheOldToken(t *testing.T) {
	old, _ := NewToken(RefreshPrefix)
	other, _ := NewToken(RefreshPrefix)
	next, _ := NewToken(RefreshPrefix)
	h := HashToken(old)
	sealed, err := sealSuccessor(old, h, next)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := openSuccessor(old, h, sealed); err != nil || got != next {
		t.Fatalf("open: %v", err)
	}
	if _, err := openSuccessor(other, h, sealed); err == nil {
		t.Error("another token opened the successor")
	}
	otherHash := HashToken(other)
	if _, err := openSuccessor(old, otherHash, sealed); err == nil {
		t.Error("the successor opened under another record")
	}
	if strings.Contains(string(sealed), next) {
		t.Error("the successor is stored in clear")
	}
}
