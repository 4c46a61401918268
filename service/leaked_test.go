package service

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/problem"
)

// TestRevokeLeaked: each kind of credential reported is revoked and
// audited as the scanner; garbage, forged JWTs, duplicates and the
// already revoked change nothing; over-long reports are refused whole.
func TestRevokeLeaked(t *testing.T) {
	t.Parallel()
	s := newTestService(t, testGlobal())
	s.Now = nil // the store's clock: session JWTs are checked against it
	u := mustUser(t, s, "alice", nil, nil)
	other := mustUser(t, s, "bob", nil, nil)
	pat, p, err := s.MintPAT(u, PATRequest{Name: "ci", Scopes: []string{"wiki:read"}, ExpiresDays: 7, Via: authstore.ViaAdmin}, authstore.AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	keep, kept, err := s.MintPAT(other, PATRequest{Name: "keep", Scopes: []string{"wiki:read"}, ExpiresDays: 7, Via: authstore.ViaAdmin}, authstore.AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	browser, err := s.StartBrowserSession(u, "192.0.2.1", "ua", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := s.StartCLISession(u, "192.0.2.1", "ua")
	if err != nil {
		t.Fatal(err)
	}
	cli2, err := s.StartCLISession(u, "192.0.2.1", "ua")
	if err != nil {
		t.Fatal(err)
	}
	// A JWT with a forged signature naming a real session.
	parts := strings.Split(browser.JWT, ".")
	forged := parts[0] + "." + parts[1] + ".AAAA" + parts[2][4:]

	n, err := s.RevokeLeaked([]string{
		"hello", forged, keep[:len(keep)-1] + "x", // garbage, forged, bad checksum
		pat, pat, " " + browser.JWT + " ", cli.AccessToken, cli2.RefreshToken,
	}, "198.51.100.7")
	if err != nil || n != 4 {
		t.Fatalf("revoked %d, %v; want 4", n, err)
	}
	if got, _ := s.Store.PAT(p.ID); got.RevokedAt.IsZero() {
		t.Error("the leaked PAT is still valid")
	}
	if got, _ := s.Store.PAT(kept.ID); !got.RevokedAt.IsZero() {
		t.Error("a PAT that was not reported was revoked")
	}
	for _, id := range []string{browser.Session.ID, cli.SessionID, cli2.SessionID} {
		sess, err := s.Store.Session(id)
		if err != nil || sess.RevokedAt.IsZero() || sess.RevokedReason != "leaked" {
			t.Errorf("session %s: %+v %v", id, sess, err)
		}
	}
	events, err := s.Store.Audit("", 100)
	if err != nil {
		t.Fatal(err)
	}
	scanner := 0
	for _, e := range events {
		if e.Actor.Kind == authstore.ActorScanner {
			scanner++
			if e.Actor.IP != "198.51.100.7" {
				t.Errorf("scanner event without its IP: %+v", e)
			}
		}
	}
	if scanner != 4 {
		t.Errorf("%d scanner events, want 4", scanner)
	}
	// Reporting them again revokes nothing more.
	if n, err := s.RevokeLeaked([]string{pat, browser.JWT, cli2.RefreshToken}, "198.51.100.7"); err != nil || n != 0 {
		t.Errorf("again: %d %v", n, err)
	}

	for _, bad := range [][]string{
		nil,
		make([]string, MaxLeakedCredentials+1),
		{keep, strings.Repeat("x", MaxLeakedCredentialLen+1)},
	} {
		_, err := s.RevokeLeaked(bad, "198.51.100.7")
		var pe *problem.Error
		if !errors.As(err, &pe) || pe.Kind != problem.KindInvalid {
			t.Errorf("%d strings: %v", len(bad), err)
		}
	}
	if got, _ := s.Store.PAT(kept.ID); !got.RevokedAt.IsZero() {
		t.Error("a refused report revoked a token it held")
	}
}

// TestRevokeLeakedDisabledUser: a leaked credential of a disabled user is
// revoked too, whatever its kind, so enabling the user again does not
// bring the leaked one back to life.
func TestRevokeLeakedDisabledUser(t *testing.T) {
	t.Parallel()
	s := newTestService(t, testGlobal())
	s.Now = nil // the store's clock: session JWTs are checked against it
	u := mustUser(t, s, "alice", nil, nil)
	pat, p, err := s.MintPAT(u, PATRequest{Name: "ci", Scopes: []string{"wiki:read"}, ExpiresDays: 7, Via: authstore.ViaAdmin}, authstore.AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	browser, err := s.StartBrowserSession(u, "192.0.2.1", "ua", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := s.StartCLISession(u, "192.0.2.1", "ua")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetDisabled("alice", true, authstore.AdminActor); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RevokeLeaked([]string{pat, browser.JWT, cli.AccessToken}, "198.51.100.7"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetDisabled("alice", false, authstore.AdminActor); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Store.PAT(p.ID); got.RevokedAt.IsZero() {
		t.Error("the leaked PAT of a disabled user was not revoked")
	}
	for _, id := range []string{browser.Session.ID, cli.SessionID} {
		if sess, err := s.Store.Session(id); err != nil || sess.RevokedAt.IsZero() {
			t.Errorf("the leaked session %s of a disabled user was not revoked: %+v %v", id, sess, err)
		}
	}
}
