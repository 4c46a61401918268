package service

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/problem"
)

// badNames are token names that every way of minting a token refuses.
var badNames = map[string]string{
	"NUL":           "\x00",
	"ANSI escape":   "\x1b[31m",
	"right-to-left": "a\u202eb",
	"invalid UTF-8": "\xff",
	"CR LF":         "\r\n",
	"CR LF inside":  "a\r\nb",
	"only spaces":   " \t ",
	"too long":      strings.Repeat("n", authstore.MaxTokenNameLen+1),
}

func TestCheckPATRequest(t *testing.T) {
	t.Parallel()
	s := newTestService(t, testGlobal())
	alice := mustUser(t, s, "alice", []string{"papers:read", "wiki:read"}, nil)
	disabled := &authstore.User{ID: "u-dis", Login: "dis", Disabled: true}
	ok := PATRequest{Name: "laptop", Scopes: []string{"wiki:read", "papers:read"}, ExpiresDays: 7, Via: authstore.ViaWeb}
	with := func(f func(*PATRequest)) PATRequest {
		r := ok
		f(&r)
		return r
	}
	for _, tc := range []struct {
		name string
		u    *authstore.User
		req  PATRequest
		kind problem.Kind
		msg  string // substring of the message
	}{
		{"valid", alice, ok, 0, ""},
		{"disabled owner", disabled, ok, problem.KindConflict, "user dis is disabled"},
		{"bad name", alice, with(func(r *PATRequest) { r.Name = "a\nb" }), problem.KindInvalid, "token name must"},
		{"no scopes", alice, with(func(r *PATRequest) { r.Scopes = nil }), problem.KindInvalid, "declared: papers:read papers:write wiki:read"},
		{"unknown scope", alice, with(func(r *PATRequest) { r.Scopes = []string{"admin:all"} }), problem.KindInvalid, "admin:all"},
		{"scope not held", alice, with(func(r *PATRequest) { r.Scopes = []string{"papers:write"} }), problem.KindInvalid, "user alice does not hold scope papers:write"},
		{"expiry and no expiry", alice, with(func(r *PATRequest) { r.NoExpiry = true }), problem.KindInvalid, "not both"},
		{"no expiry not allowed", alice, with(func(r *PATRequest) { r.NoExpiry, r.ExpiresDays = true, 0 }), problem.KindInvalid, "give 1 to 30 days"},
		{"zero days", alice, with(func(r *PATRequest) { r.ExpiresDays = 0 }), problem.KindInvalid, "expiry 0 days: must be 1 to 30"},
		{"too many days", alice, with(func(r *PATRequest) { r.ExpiresDays = 31 }), problem.KindInvalid, "must be 1 to 30"},
		{"cap of an undeclared type", alice, with(func(r *PATRequest) { r.Resources = map[string]string{"team:x": "read"} }), problem.KindInvalid, "team:x"},
		{"cap of an undeclared role", alice, with(func(r *PATRequest) { r.Resources = map[string]string{"project:x": "owner"} }), problem.KindInvalid, "project:x"},
		{"cap not yet held is fine here", alice, with(func(r *PATRequest) { r.Resources = map[string]string{"project:x": "read"} }), 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n, err := s.CheckPATRequest(tc.u, tc.req)
			wantKind(t, err, tc.kind)
			if err != nil {
				if !strings.Contains(err.Error(), tc.msg) {
					t.Errorf("message %q does not say %q", err, tc.msg)
				}
				return
			}
			if n.UserID != tc.u.ID || n.Prefix != "qat_" || n.Name != tc.req.Name || n.CreatedVia != authstore.ViaWeb {
				t.Errorf("new PAT %+v", n)
			}
			if want := testNow.Add(7 * 24 * time.Hour); !n.ExpiresAt.Equal(want) {
				t.Errorf("expires %v, want %v", n.ExpiresAt, want)
			}
			// Catalog order, whatever order they were asked in.
			if !slices.Equal(n.Scopes, []string{"papers:read", "wiki:read"}) {
				t.Errorf("scopes %v", n.Scopes)
			}
		})
	}
}

func TestCheckPATRequestNoExpiry(t *testing.T) {
	t.Parallel()
	g := testGlobal()
	g.PATAllowNoExpiry = true
	s := newTestService(t, g)
	u := mustUser(t, s, "alice", nil, nil)
	n, err := s.CheckPATRequest(u, PATRequest{Name: "ci", Scopes: []string{"wiki:read"}, NoExpiry: true, Via: authstore.ViaAdmin})
	if err != nil || !n.ExpiresAt.IsZero() {
		t.Errorf("no expiry: %+v %v", n, err)
	}
}

// TestTokenNamesRefused: every minting path refuses a bad name with a
// 400 that says what a name must be, and stores nothing.
func TestTokenNamesRefused(t *testing.T) {
	t.Parallel()
	s := newTestService(t, testGlobal())
	u := mustUser(t, s, "alice", nil, nil)
	for name, bad := range badNames {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, _, err := s.MintPAT(u, PATRequest{Name: bad, Scopes: []string{"papers:read"}, ExpiresDays: 7, Via: authstore.ViaWeb}, authstore.AdminActor)
			var re *problem.Error
			if !errors.As(err, &re) || re.Kind.Status() != 400 || !errors.Is(err, authstore.ErrInvalidName) {
				t.Errorf("MintPAT: %v", err)
			}
			for _, surface := range []problem.Surface{problem.API, problem.Admin} {
				if d := problem.From(err, surface); d.Status != 400 || d.Code != "invalid_request" || !strings.HasPrefix(d.Message, "token name must") {
					t.Errorf("surface %d: %d %s %q", surface, d.Status, d.Code, d.Message)
				}
			}
		})
	}
	t.Cleanup(func() {
		if pats, _ := s.Store.PATs(u.ID); len(pats) != 0 {
			t.Errorf("%d tokens stored", len(pats))
		}
	})
}

func TestMintPAT(t *testing.T) {
	t.Parallel()
	s := newTestService(t, testGlobal())
	u := mustUser(t, s, "alice", nil, map[string]string{"project:atlas": "edit"})
	caps := map[string]string{"project:atlas": "read"}
	tok, p, err := s.MintPAT(u, PATRequest{Name: "laptop", Scopes: []string{"papers:read"}, ExpiresDays: 3, Resources: caps, Via: authstore.ViaWeb},
		Caller{User: u, IP: "192.0.2.1"}.Actor())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, "qat_") || p.UserID != u.ID || p.ResourceCaps["project:atlas"] != "read" {
		t.Errorf("token %q %+v", tok, p)
	}
	got, err := s.LookupPlaintext(tok)
	if err != nil || got.ID != p.ID {
		t.Errorf("LookupPlaintext: %+v %v", got, err)
	}
	if _, err := s.LookupPlaintext("qat_nonsense"); !errors.Is(err, authstore.ErrMalformedToken) && !errors.Is(err, authstore.ErrTokenChecksum) {
		t.Errorf("LookupPlaintext of a malformed token: %v", err)
	}
	// A refused request creates nothing.
	if _, _, err := s.MintPAT(u, PATRequest{Name: "x", Scopes: []string{"nope:x"}, ExpiresDays: 3}, authstore.AdminActor); err == nil {
		t.Error("an unknown scope was minted")
	}
	if pats, _ := s.Store.PATs(u.ID); len(pats) != 1 {
		t.Errorf("%d tokens stored, want 1", len(pats))
	}
	// The store's own check of the owner: disabled after the request was checked.
	if _, err := s.Store.UpdateUser("alice", authstore.AdminActor, "disabled", func(x *authstore.User) error { x.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.MintPAT(u, PATRequest{Name: "late", Scopes: []string{"papers:read"}, ExpiresDays: 3}, authstore.AdminActor)
	if !errors.Is(err, authstore.ErrUserDisabled) {
		t.Errorf("minting for a user disabled since: %v", err)
	}
}

func TestCreateToken(t *testing.T) {
	t.Parallel()
	s := newTestService(t, testGlobal())
	mustUser(t, s, "bob", nil, nil)
	for _, tc := range []struct {
		name string
		req  api.CreateTokenRequest
		want error // errors.Is; nil: created
		kind problem.Kind
	}{
		{"created", api.CreateTokenRequest{User: "bob", Name: "ci", Scopes: []string{"wiki:read"}, ExpiresDays: 10,
			Resources: map[string]string{"project:later": "edit"}}, nil, 0},
		{"unknown user", api.CreateTokenRequest{User: "ghost", Name: "ci", Scopes: []string{"wiki:read"}, ExpiresDays: 10}, authstore.ErrNotFound, 0},
		{"refused", api.CreateTokenRequest{User: "bob", Name: "ci", Scopes: []string{"wiki:read"}, ExpiresDays: 99}, nil, problem.KindInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := s.CreateToken(tc.req)
			switch {
			case tc.want != nil:
				if !errors.Is(err, tc.want) {
					t.Errorf("error %v, want %v", err, tc.want)
				}
			case tc.kind != 0:
				wantKind(t, err, tc.kind)
			case err != nil:
				t.Fatal(err)
			default:
				if out.Token == "" || out.Info.User != "bob" || out.Info.CreatedVia != authstore.ViaAdmin || out.Info.AllResources ||
					out.Info.Expires == nil || !out.Info.Expires.Equal(testNow.Add(10*24*time.Hour)) {
					t.Errorf("created %+v", out)
				}
			}
		})
	}
}

func TestTokenInfo(t *testing.T) {
	t.Parallel()
	s := newTestService(t, testGlobal())
	used := testNow.Add(-time.Hour)
	for _, tc := range []struct {
		name string
		p    authstore.PAT
		want func(api.TokenInfo) bool
	}{
		{"no expiry, never used", authstore.PAT{ID: "t1", Name: "ci", Scopes: []string{"wiki:read"}},
			func(v api.TokenInfo) bool {
				return v.Expires == nil && v.LastUsed == nil && v.AllResources && v.Status == "active"
			}},
		{"expired, used, capped", authstore.PAT{ID: "t2", Name: "old", ExpiresAt: testNow.Add(-time.Minute), LastUsedAt: used, LastUsedIP: "192.0.2.9",
			ResourceCaps: map[string]string{"project:a": "read"}},
			func(v api.TokenInfo) bool {
				return v.Expires != nil && v.LastUsed != nil && v.LastUsed.Equal(used) && v.LastUsedIP == "192.0.2.9" && !v.AllResources && v.Status == "expired"
			}},
		{"a name stored before names were checked is shown as text", authstore.PAT{ID: "t3", Name: "a\x1b[31mb"},
			func(v api.TokenInfo) bool { return !strings.ContainsRune(v.Name, 0x1b) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := s.TokenInfo(&tc.p, "alice")
			if v.ID != tc.p.ID || v.User != "alice" || !tc.want(v) {
				t.Errorf("%+v", v)
			}
		})
	}
}

func TestListings(t *testing.T) {
	t.Parallel()
	s := newTestService(t, testGlobal())
	alice := mustUser(t, s, "alice", nil, nil)
	bob := mustUser(t, s, "bob", nil, nil)
	for i, owner := range []*authstore.User{alice, alice, bob} {
		if _, _, err := s.MintPAT(owner, PATRequest{Name: "t" + string(rune('0'+i)), Scopes: []string{"wiki:read"}, ExpiresDays: 1}, authstore.AdminActor); err != nil {
			t.Fatal(err)
		}
	}
	mine, err := s.UserTokens(alice)
	if err != nil || len(mine) != 2 || mine[0].Name != "t1" || mine[1].Name != "t0" {
		t.Errorf("UserTokens (newest first): %+v %v", mine, err)
	}
	for _, tc := range []struct {
		login string
		names []string
		err   error
	}{
		{"", []string{"t0", "t1", "t2"}, nil},
		{"alice", []string{"t0", "t1"}, nil},
		{"bob", []string{"t2"}, nil},
		{"ghost", nil, authstore.ErrNotFound},
	} {
		t.Run("Tokens "+tc.login, func(t *testing.T) {
			t.Parallel()
			list, err := s.Tokens(tc.login)
			if !errors.Is(err, tc.err) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			var names []string
			for _, v := range list {
				names = append(names, v.Name)
				if want := map[string]string{"t2": "bob"}[v.Name]; want != "" && v.User != want || want == "" && v.User != "alice" {
					t.Errorf("%s is listed as %s's", v.Name, v.User)
				}
			}
			slices.Sort(names)
			if !slices.Equal(names, tc.names) {
				t.Errorf("names %v, want %v", names, tc.names)
			}
		})
	}
	if got := s.LoginOf("no-such-id"); got != "" {
		t.Errorf("LoginOf a missing user: %q", got)
	}
}

func TestRevokeToken(t *testing.T) {
	t.Parallel()
	s := newTestService(t, testGlobal())
	u := mustUser(t, s, "alice", nil, nil)
	_, p, err := s.MintPAT(u, PATRequest{Name: "x", Scopes: []string{"wiki:read"}, ExpiresDays: 1}, authstore.AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.RevokeToken(p.ID)
	if err != nil || v.ID != p.ID || v.User != "alice" || v.Status != "revoked" {
		t.Errorf("RevokeToken: %+v %v", v, err)
	}
	if _, err := s.RevokeToken("no-such-token"); !errors.Is(err, authstore.ErrNotFound) {
		t.Errorf("RevokeToken of a missing token: %v", err)
	}
}

func TestRevokeOwnPAT(t *testing.T) {
	t.Parallel()
	s := newTestService(t, testGlobal())
	alice := mustUser(t, s, "alice", nil, nil)
	bob := mustUser(t, s, "bob", nil, nil)
	mint := func(u *authstore.User) *authstore.PAT {
		_, p, err := s.MintPAT(u, PATRequest{Name: "x", Scopes: []string{"wiki:read"}, ExpiresDays: 1}, authstore.AdminActor)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	mine, bobs := mint(alice), mint(bob)
	for _, tc := range []struct {
		name string
		id   string
		want error
	}{
		{"empty id", "", ErrNoSuchToken},
		{"overlong id", strings.Repeat("x", 65), ErrNoSuchToken},
		{"missing", "no-such-token", ErrNoSuchToken},
		{"another user's, reported as missing", bobs.ID, ErrNoSuchToken},
		{"own", mine.ID, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := s.RevokeOwnPAT(Caller{User: alice, IP: "192.0.2.1"}, tc.id)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if err == nil && (p.ID != mine.ID || p.RevokedAt.IsZero()) {
				t.Errorf("revoked %+v", p)
			}
		})
	}
	t.Cleanup(func() { // after the parallel subtests
		if p, _ := s.Store.PAT(bobs.ID); !p.RevokedAt.IsZero() {
			t.Error("bob's token was revoked")
		}
	})
}

func TestRevokeByCaller(t *testing.T) {
	t.Parallel()
	s := newTestService(t, testGlobal())
	alice := mustUser(t, s, "alice", nil, nil)
	bob := mustUser(t, s, "bob", nil, nil)
	type minted struct {
		tok string
		p   *authstore.PAT
	}
	mint := func(u *authstore.User) minted {
		tok, p, err := s.MintPAT(u, PATRequest{Name: "x", Scopes: []string{"wiki:read"}, ExpiresDays: 1}, authstore.AdminActor)
		if err != nil {
			t.Fatal(err)
		}
		return minted{tok, p}
	}
	for _, tc := range []struct {
		name string
		// run mints what it needs and returns the caller, the
		// parameters and the token that must end up revoked.
		run  func() (c Caller, id, plaintext string, target *authstore.PAT)
		want error
	}{
		{"a PAT revokes itself with no parameters", func() (Caller, string, string, *authstore.PAT) {
			m := mint(alice)
			return Caller{User: alice, PAT: m.p}, "", "", m.p
		}, nil},
		{"a PAT names itself by id", func() (Caller, string, string, *authstore.PAT) {
			m := mint(alice)
			return Caller{User: alice, PAT: m.p}, m.p.ID, "", m.p
		}, nil},
		{"a PAT names itself by plaintext", func() (Caller, string, string, *authstore.PAT) {
			m := mint(alice)
			return Caller{User: alice, PAT: m.p}, "", m.tok, m.p
		}, nil},
		{"a PAT may not revoke another", func() (Caller, string, string, *authstore.PAT) {
			self, other := mint(alice), mint(alice)
			return Caller{User: alice, PAT: self.p}, other.p.ID, "", nil
		}, ErrRevokeOther},
		{"a session revokes its user's PAT by id", func() (Caller, string, string, *authstore.PAT) {
			m := mint(alice)
			return Caller{User: alice}, m.p.ID, "", m.p
		}, nil},
		{"a session revokes its user's PAT by plaintext", func() (Caller, string, string, *authstore.PAT) {
			m := mint(alice)
			return Caller{User: alice}, "", m.tok, m.p
		}, nil},
		{"a session names nothing", func() (Caller, string, string, *authstore.PAT) {
			return Caller{User: alice}, "", "", nil
		}, ErrRevokeMissing},
		{"id and plaintext disagree", func() (Caller, string, string, *authstore.PAT) {
			a, b := mint(alice), mint(alice)
			return Caller{User: alice}, a.p.ID, b.tok, nil
		}, ErrRevokeMismatch},
		{"unknown plaintext", func() (Caller, string, string, *authstore.PAT) {
			return Caller{User: alice}, "", "qat_notatoken", nil
		}, ErrNoSuchToken},
		{"another user's token is reported as missing", func() (Caller, string, string, *authstore.PAT) {
			m := mint(bob)
			return Caller{User: alice}, m.p.ID, "", nil
		}, ErrNoSuchToken},
		{"another user's plaintext is reported as missing", func() (Caller, string, string, *authstore.PAT) {
			m := mint(bob)
			return Caller{User: alice}, "", m.tok, nil
		}, ErrNoSuchToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, id, plaintext, target := tc.run()
			p, err := s.RevokeByCaller(c, id, plaintext)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if target == nil {
				return
			}
			if p.ID != target.ID || p.RevokedAt.IsZero() {
				t.Errorf("revoked %+v, want %s", p, target.ID)
			}
		})
	}
}

func TestCallerActor(t *testing.T) {
	t.Parallel()
	u := &authstore.User{ID: "u1"}
	for _, tc := range []struct {
		c    Caller
		kind string
	}{
		{Caller{User: u, IP: "192.0.2.1"}, authstore.ActorUser},
		{Caller{User: u, PAT: &authstore.PAT{ID: "t1"}, IP: "192.0.2.1"}, authstore.ActorToken},
	} {
		if a := tc.c.Actor(); a.Kind != tc.kind || a.UserID != "u1" || a.IP != "192.0.2.1" {
			t.Errorf("%+v", a)
		}
	}
}
