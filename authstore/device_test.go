package authstore

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func newGrant(t testing.TB, s *Store) (string, string) {
	t.Helper()
	dc, uc, err := s.CreateDeviceGrant(NewDeviceGrant{ClientID: "cli", Scopes: []string{"a:b"}, TTL: 10 * time.Minute, Interval: 5 * time.Second, IP: "192.0.2.9"})
	if err != nil {
		t.Fatal(err)
	}
	return dc, uc
}

func TestDeviceCodes(t *testing.T) {
	s, _ := openTest(t, Options{})
	dc, uc := newGrant(t, s)
	if len(dc) < 43 { // 256 bits, base64url
		t.Errorf("device code %q is short", dc)
	}
	if len(uc) != 8 || strings.Trim(uc, userCodeAlphabet) != "" {
		t.Errorf("user code %q", uc)
	}
	for _, typed := range []string{uc, strings.ToLower(uc), FormatUserCode(uc), " " + uc[:4] + " - " + uc[4:] + " "} {
		if g, err := s.DeviceGrantByUserCode(typed); err != nil || g.ClientID != "cli" {
			t.Errorf("lookup %q: %v", typed, err)
		}
	}
	for _, bad := range []string{"", "BCDF", "AAAAAAAA", uc + "B"} {
		if _, err := s.DeviceGrantByUserCode(bad); !errors.Is(err, ErrNotFound) {
			t.Errorf("lookup %q: %v", bad, err)
		}
	}
}

func TestUserCodesAreUniform(t *testing.T) {
	counts := map[byte]int{}
	const n = 4000
	for range n {
		c, err := randomUserCode()
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(c); i++ {
			counts[c[i]]++
		}
	}
	if len(counts) != len(userCodeAlphabet) {
		t.Fatalf("letters used: %d", len(counts))
	}
	expect := float64(n*userCodeLen) / float64(len(userCodeAlphabet))
	for ch, c := range counts {
		if float64(c) < expect*0.85 || float64(c) > expect*1.15 {
			t.Errorf("letter %c drawn %d times, expected about %.0f", ch, c, expect)
		}
	}
}

func TestDevicePollFlow(t *testing.T) {
	clock := &testClock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	s, _ := openTest(t, Options{Now: clock.Now})
	u := mustUser(t, s, "dora")
	dc, uc := newGrant(t, s)

	if _, _, _, err := s.PollDevice(dc, "cli"); !errors.Is(err, ErrAuthorizationPending) {
		t.Fatalf("first poll: %v", err)
	}
	clock.Advance(time.Second)
	_, _, g, err := s.PollDevice(dc, "cli")
	if !errors.Is(err, ErrSlowDown) || g.Interval != 10*time.Second {
		t.Fatalf("fast poll: %v interval %v", err, g.Interval)
	}
	clock.Advance(6 * time.Second) // under the grown 10s interval
	if _, _, g, err := s.PollDevice(dc, "cli"); !errors.Is(err, ErrSlowDown) || g.Interval != 15*time.Second {
		t.Fatalf("still too fast: %v %v", err, g.Interval)
	}
	clock.Advance(15*time.Second - 100*time.Millisecond) // a ticker's poll, a hair early
	if _, _, _, err := s.PollDevice(dc, "cli"); !errors.Is(err, ErrAuthorizationPending) {
		t.Fatalf("poll at the interval: %v", err)
	}

	approval := &NewPAT{Prefix: "gth_", Name: "laptop", Scopes: []string{"a:b"}, ExpiresAt: clock.Now().Add(90 * 24 * time.Hour)}
	if _, err := s.DecideDevice(FormatUserCode(uc), u.ID, approval, Actor{Kind: "user", UserID: u.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DecideDevice(uc, u.ID, nil, Actor{Kind: "user"}); !errors.Is(err, ErrDeviceCodeUsed) {
		t.Errorf("deciding twice: %v", err)
	}
	tok, pat, _, err := s.PollDevice(dc, "cli")
	if err != nil || pat.CreatedVia != ViaDevice || pat.UserID != u.ID || pat.Name != "laptop" {
		t.Fatalf("approved poll: %v %+v", err, pat)
	}
	if _, owner, err := s.VerifyPAT(tok, ""); err != nil || owner.ID != u.ID {
		t.Fatalf("minted token does not verify: %v", err)
	}
	if _, _, _, err := s.PollDevice(dc, "cli"); !errors.Is(err, ErrDeviceCodeUsed) {
		t.Errorf("second poll after the token: %v", err)
	}
	if _, _, _, err := s.PollDevice("not-a-code", "cli"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown code: %v", err)
	}
	dc3, _ := newGrant(t, s)
	if _, _, _, err := s.PollDevice(dc3, "other-client"); !errors.Is(err, ErrNotFound) {
		t.Errorf("another client's code: %v", err)
	}
}

func TestDeviceDeniedAndExpired(t *testing.T) {
	clock := &testClock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	s, _ := openTest(t, Options{Now: clock.Now})
	u := mustUser(t, s, "eve")

	dc, uc := newGrant(t, s)
	if _, err := s.DecideDevice(uc, u.ID, nil, Actor{Kind: "user", UserID: u.ID}); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := s.PollDevice(dc, "cli"); !errors.Is(err, ErrAccessDenied) {
		t.Errorf("denied: %v", err)
	}

	dc2, uc2 := newGrant(t, s)
	clock.Advance(11 * time.Minute)
	if _, _, _, err := s.PollDevice(dc2, "cli"); !errors.Is(err, ErrExpired) {
		t.Errorf("expired poll: %v", err)
	}
	if _, err := s.DecideDevice(uc2, u.ID, &NewPAT{Prefix: "gth_", Name: "x"}, Actor{}); !errors.Is(err, ErrExpired) {
		t.Errorf("approving an expired grant: %v", err)
	}

	// Approved in time but polled after expiry: nothing is minted.
	dc3, uc3 := newGrant(t, s)
	if _, err := s.DecideDevice(uc3, u.ID, &NewPAT{Prefix: "gth_", Name: "late", Scopes: []string{"a:b"}}, Actor{}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(11 * time.Minute)
	if _, _, _, err := s.PollDevice(dc3, "cli"); !errors.Is(err, ErrExpired) {
		t.Errorf("approved but expired: %v", err)
	}
	if pats, _ := s.PATs(u.ID); len(pats) != 0 {
		t.Errorf("a late poll minted %d tokens", len(pats))
	}

	clock.Advance(2 * time.Hour)
	if err := s.purgeDeviceGrants(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeviceGrantByUserCode(uc2); !errors.Is(err, ErrNotFound) {
		t.Errorf("purged grant still found: %v", err)
	}
	if _, _, _, err := s.PollDevice(dc, "cli"); !errors.Is(err, ErrNotFound) {
		t.Errorf("purged grant still polls: %v", err)
	}
}

// TestDeviceTokenHandedOutOnce races many polls of an approved grant:
// exactly one gets the token.
func TestDeviceTokenHandedOutOnce(t *testing.T) {
	s, _ := openTest(t, Options{})
	u := mustUser(t, s, "race")
	dc, uc := newGrant(t, s)
	if _, err := s.DecideDevice(uc, u.ID, &NewPAT{Prefix: "gth_", Name: "x", Scopes: []string{"a:b"}}, Actor{}); err != nil {
		t.Fatal(err)
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		tokens int
	)
	for range 8 {
		wg.Go(func() {
			if tok, _, _, err := s.PollDevice(dc, "cli"); err == nil && tok != "" {
				mu.Lock()
				tokens++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if tokens != 1 {
		t.Fatalf("%d polls got a token", tokens)
	}
	if pats, _ := s.PATs(u.ID); len(pats) != 1 {
		t.Fatalf("%d tokens minted", len(pats))
	}
}

// BenchmarkPollPending is the cost of a client's poll while the user has
// not decided: one read transaction and the in-memory interval check.
func BenchmarkPollPending(b *testing.B) {
	s, _ := openTest(b, Options{})
	dc, _, err := s.CreateDeviceGrant(NewDeviceGrant{ClientID: "cli", TTL: time.Hour, Interval: 0})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, _, err := s.PollDevice(dc, "cli"); !errors.Is(err, ErrAuthorizationPending) {
			b.Fatal(err)
		}
	}
}

// TestDeviceSession: an approved grant polled for a session yields a CLI
// session of the approver and its first refresh token, once (racing polls
// included), and no PAT; a pending grant answers as PollDevice does.
func TestDeviceSession(t *testing.T) {
	s, _ := openTest(t, Options{})
	u := mustUser(t, s, "sam")
	dc, uc := newGrant(t, s)
	n := NewSession{TTL: time.Hour, IP: "192.0.2.7", UserAgent: "cli"}
	if _, _, _, err := s.PollDeviceSession(dc, "cli", n); !errors.Is(err, ErrAuthorizationPending) {
		t.Fatalf("pending: %v", err)
	}
	if _, err := s.DecideDevice(uc, u.ID, &NewPAT{Prefix: "gth_", Name: "x", Scopes: []string{"a:b"}}, Actor{}); err != nil {
		t.Fatal(err)
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		sessions []*Session
		refresh  string
	)
	for range 8 {
		wg.Go(func() {
			sess, tok, _, err := s.PollDeviceSession(dc, "cli", n)
			if err == nil {
				mu.Lock()
				sessions, refresh = append(sessions, sess), tok
				mu.Unlock()
			} else if !errors.Is(err, ErrDeviceCodeUsed) {
				t.Errorf("racing poll: %v", err)
			}
		})
	}
	wg.Wait()
	if len(sessions) != 1 || sessions[0].UserID != u.ID || sessions[0].Kind != SessionCLI {
		t.Fatalf("sessions %+v", sessions)
	}
	if pats, _ := s.PATs(u.ID); len(pats) != 0 {
		t.Errorf("%d PATs minted for a session grant", len(pats))
	}
	rot, err := s.RotateRefresh(refresh, DefaultRefreshGrace, Actor{})
	if err != nil || rot.Session.ID != sessions[0].ID {
		t.Fatalf("the refresh token does not rotate: %v", err)
	}
	if _, _, _, err := s.PollDevice(dc, "cli"); !errors.Is(err, ErrDeviceCodeUsed) {
		t.Errorf("PAT poll after the session: %v", err)
	}
}
