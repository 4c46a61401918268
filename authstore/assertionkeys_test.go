package authstore

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"path/filepath"
	"testing"
	"time"
)

// TestAssertionKeys: the first key is created on use and survives a
// reopen; a rotation makes a new key current, keeps the old one published
// for the overlap, and the next rotation after it deletes it.
func TestAssertionKeys(t *testing.T) {
	t.Parallel()
	c := &testClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	path := filepath.Join(t.TempDir(), "g.db")
	s, err := Open(path, Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	if keys, err := s.AssertionKeys(); err != nil || len(keys) != 0 {
		t.Fatalf("a new store has keys %v (%v)", keys, err)
	}
	ed, err := s.CurrentAssertionKey(AlgEdDSA)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ed.Signer().(ed25519.PrivateKey); !ok || ed.Alg != AlgEdDSA {
		t.Fatalf("EdDSA key %+v", ed)
	}
	es, err := s.CurrentAssertionKey(AlgES256)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := es.Signer().(*ecdsa.PrivateKey); !ok {
		t.Fatalf("ES256 key %T", es.Signer())
	}
	if _, err := s.CurrentAssertionKey("HS256"); err == nil {
		t.Error("HS256 accepted")
	}
	s.Close()

	s, err = Open(path, Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	again, err := s.CurrentAssertionKey(AlgEdDSA)
	if err != nil || again.ID != ed.ID {
		t.Fatalf("after reopen: %v %v, want %s", again, err, ed.ID)
	}

	c.Advance(time.Minute)
	rotated, err := s.RotateAssertionKey(AlgEdDSA, time.Hour, AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	if cur, _ := s.CurrentAssertionKey(AlgEdDSA); cur.ID != rotated.ID || cur.ID == ed.ID {
		t.Fatalf("current %s after rotating to %s", cur.ID, rotated.ID)
	}
	published := func() map[string]bool {
		keys, err := s.AssertionKeys()
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, k := range keys {
			m[k.ID] = k.Published(c.Now())
		}
		return m
	}
	if p := published(); len(p) != 3 || !p[ed.ID] || !p[rotated.ID] || !p[es.ID] {
		t.Errorf("during the overlap: %v", p)
	}
	c.Advance(time.Hour)
	if p := published(); p[ed.ID] || !p[rotated.ID] {
		t.Errorf("after the overlap: %v", p)
	}
	third, err := s.RotateAssertionKey(AlgEdDSA, time.Hour, AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	if p := published(); len(p) != 3 || !p[third.ID] || !p[rotated.ID] || !p[es.ID] {
		t.Errorf("the next rotation keeps %v; the first key should be gone", p)
	}
	events, err := s.Audit("", 100)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.Action == ActionAssertionKeyRotated {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d rotations audited", n)
	}
}
