package service

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/problem"
)

func TestSetPassword(t *testing.T) {
	t.Parallel()
	s := newTestService(t, testGlobal())
	u := mustUser(t, s, "alice", nil, nil)
	for range 2 {
		if _, err := s.Store.CreateSession(authstore.NewSession{UserID: u.ID, Kind: authstore.SessionBrowser, TTL: time.Hour}, authstore.AdminActor); err != nil {
			t.Fatal(err)
		}
	}
	hash, err := authstore.HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.SetPassword("alice", "plaintext", authstore.AdminActor)
	wantKind(t, err, problem.KindInvalid)
	if err == nil || !strings.HasPrefix(err.Error(), "password_hash: ") {
		t.Errorf("a password instead of a hash: %v", err)
	}
	if _, err := s.SetPassword("ghost", hash, authstore.AdminActor); !errors.Is(err, authstore.ErrNotFound) {
		t.Errorf("a missing user: %v", err)
	}
	out, err := s.SetPassword("alice", hash, authstore.AdminActor)
	if err != nil || !out.User.Password || out.SessionsRevoked != 2 {
		t.Errorf("SetPassword: %+v %v", out, err)
	}
}

// TestSetAdmin: the role is granted and taken, audited with the actor;
// an agent cannot hold it, an administrator cannot drop their own, and
// a missing user is not found; a refused change writes nothing.
func TestSetAdmin(t *testing.T) {
	t.Parallel()
	s := newTestService(t, testGlobal())
	root := mustUser(t, s, "root", nil, nil)
	mustUser(t, s, "alice", nil, nil)
	if _, err := s.Store.CreateUser(authstore.NewUser{Login: "bot", Kind: authstore.KindAgent, Tier: "free"}, authstore.AdminActor); err != nil {
		t.Fatal(err)
	}
	console := authstore.Actor{Kind: authstore.ActorAdmin, UserID: root.ID, IP: "192.0.2.9"}
	if _, err := s.SetAdmin("root", true, authstore.AdminActor); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		login string
		admin bool
		actor authstore.Actor
		kind  problem.Kind
		want  bool
	}{
		{"grant", "alice", true, console, 0, true},
		{"revoke", "alice", false, console, 0, false},
		{"agent", "bot", true, console, problem.KindInvalid, false},
		{"self", "root", false, console, problem.KindInvalid, true},
		{"self through the CLI", "root", false, authstore.AdminActor, 0, false},
	} {
		out, err := s.SetAdmin(tc.login, tc.admin, tc.actor)
		wantKind(t, err, tc.kind)
		u, _ := s.Store.UserByLogin(tc.login)
		if u.Admin != tc.want || (err == nil && out.Admin != tc.want) {
			t.Errorf("%s: admin %v (answer %v), want %v", tc.name, u.Admin, out.Admin, tc.want)
		}
	}
	if _, err := s.SetAdmin("ghost", true, console); !errors.Is(err, authstore.ErrNotFound) {
		t.Errorf("a missing user: %v", err)
	}
	events, _ := s.Store.Audit("", 0)
	var granted bool
	for _, e := range events {
		if e.Detail == "admin granted" && e.Actor.UserID == root.ID && e.Actor.IP == "192.0.2.9" {
			granted = true
		}
	}
	if !granted {
		t.Errorf("no audited grant with the administrator as actor: %+v", events)
	}
}

func TestTOTP(t *testing.T) {
	t.Parallel()
	g := testGlobal()
	g.Realm = "example"
	s := newTestService(t, g)
	mustUser(t, s, "alice", nil, nil)
	out, err := s.EnableTOTP("alice", authstore.AdminActor)
	if err != nil || !out.User.TOTP || !strings.HasPrefix(out.URL, "otpauth://") || !strings.Contains(out.URL, "example") {
		t.Fatalf("EnableTOTP: %+v %v", out, err)
	}
	_, err = s.EnableTOTP("alice", authstore.AdminActor)
	wantKind(t, err, problem.KindConflict)
	if p := problem.From(err, problem.Admin); p.Status != 409 || p.Code != "invalid_request" || !strings.Contains(p.Message, "disable it first") {
		t.Errorf("enabled twice: %+v", p)
	}
	if _, err := s.EnableTOTP("ghost", authstore.AdminActor); !errors.Is(err, authstore.ErrNotFound) {
		t.Errorf("a missing user: %v", err)
	}
	if out, err = s.DisableTOTP("alice", authstore.AdminActor); err != nil || out.User.TOTP || out.URL != "" {
		t.Errorf("DisableTOTP: %+v %v", out, err)
	}
	if _, err := s.DisableTOTP("ghost", authstore.AdminActor); !errors.Is(err, authstore.ErrNotFound) {
		t.Errorf("a missing user: %v", err)
	}
}

func TestSessions(t *testing.T) {
	t.Parallel()
	s := newTestService(t, testGlobal())
	alice := mustUser(t, s, "alice", nil, nil)
	bob := mustUser(t, s, "bob", nil, nil)
	var ids []string
	for _, u := range []*authstore.User{alice, alice, bob} {
		sess, err := s.Store.CreateSession(authstore.NewSession{UserID: u.ID, Kind: authstore.SessionBrowser, TTL: time.Hour, IP: "192.0.2.1", UserAgent: "curl\x1b[31m"}, authstore.AdminActor)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, sess.ID)
	}
	all, err := s.Sessions("")
	if err != nil || len(all) != 3 {
		t.Fatalf("Sessions: %d %v", len(all), err)
	}
	for _, v := range all {
		if strings.ContainsRune(v.UserAgent, 0x1b) || v.Revoked != nil || v.User == "" {
			t.Errorf("listed %+v", v)
		}
	}
	if mine, err := s.Sessions("alice"); err != nil || len(mine) != 2 {
		t.Errorf("alice's sessions: %d %v", len(mine), err)
	}
	if _, err := s.Sessions("ghost"); !errors.Is(err, authstore.ErrNotFound) {
		t.Errorf("a missing user: %v", err)
	}
	v, err := s.RevokeSession(ids[0])
	if err != nil || v.ID != ids[0] || v.User != "alice" || v.Revoked == nil || v.Reason != "revoked by admin" {
		t.Errorf("RevokeSession: %+v %v", v, err)
	}
	if _, err := s.RevokeSession("no-such-session"); !errors.Is(err, authstore.ErrNotFound) {
		t.Errorf("a missing session: %v", err)
	}
	out, err := s.RevokeUserSessions("alice")
	if err != nil || out.User != "alice" || out.Revoked != 1 {
		t.Errorf("RevokeUserSessions: %+v %v", out, err)
	}
	if _, err := s.RevokeUserSessions("ghost"); !errors.Is(err, authstore.ErrNotFound) {
		t.Errorf("a missing user: %v", err)
	}
	if v := s.SessionInfo(&authstore.Session{ID: "s", LastSeenAt: testNow}, "x"); v.LastSeen == nil || !v.LastSeen.Equal(testNow) {
		t.Errorf("last seen: %+v", v)
	}
}

func TestStatusAuditCheck(t *testing.T) {
	t.Parallel()
	s := newTestService(t, testGlobal())
	u := mustUser(t, s, "alice", nil, nil)
	mustUser(t, s, "bob", nil, nil)
	if _, _, err := s.MintPAT(u, PATRequest{Name: "x", Scopes: []string{"wiki:read"}, ExpiresDays: 1}, authstore.AdminActor); err != nil {
		t.Fatal(err)
	}
	st, err := s.Status()
	if err != nil || st.Users != 2 || st.Tokens != 1 || st.TokenPrefix != "qat_" || !slices.Equal(st.Tiers, []string{"free", "pro"}) || st.Store != s.Store.Path() {
		t.Errorf("Status: %+v %v", st, err)
	}
	all, err := s.Audit("", 100)
	if err != nil || len(all) < 3 {
		t.Errorf("Audit: %d %v", len(all), err)
	}
	mine, err := s.Audit("alice", 100)
	if err != nil || len(mine) < 2 {
		t.Errorf("alice's audit: %d %v", len(mine), err)
	}
	for _, e := range mine {
		if e.UserID != u.ID || e.Action == "" || e.Actor.Kind == "" {
			t.Errorf("event %+v", e)
		}
	}
	if one, err := s.Audit("", 1); err != nil || len(one) != 1 {
		t.Errorf("Audit limited to 1: %d %v", len(one), err)
	}
	if _, err := s.Audit("ghost", 1); !errors.Is(err, authstore.ErrNotFound) {
		t.Errorf("a missing user: %v", err)
	}
	c, err := s.CheckStore()
	if err != nil || c.Problems == nil || len(c.Problems) != 0 || c.Store != s.Store.Path() {
		t.Errorf("CheckStore: %+v %v", c, err)
	}
}

func TestStatusWithoutTiers(t *testing.T) {
	t.Parallel()
	s := newTestService(t, testGlobal())
	s.Policy.Tiers = nil
	if st, err := s.Status(); err != nil || st.Tiers == nil {
		t.Errorf("tiers must be a list, never null: %#v %v", st.Tiers, err)
	}
}
