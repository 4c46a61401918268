package service

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/gatehouse/gatehouse/authstore"
)

// accountUser is alice with a password, three browser sessions (the
// first is "this one"), and a service with a login backoff.
func accountUser(t *testing.T) (*Service, *authstore.User, []string) {
	t.Helper()
	s := newTestService(t, testGlobal())
	s.Logins = NewBackoff()
	mustUser(t, s, "alice", nil, nil)
	h, _ := authstore.HashPassword("old password 1")
	u, err := s.Store.SetPassword("alice", h, authstore.AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for range 3 {
		sess, err := s.Store.CreateSession(authstore.NewSession{UserID: u.ID, Kind: authstore.SessionBrowser, TTL: time.Hour}, authstore.AdminActor)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, sess.ID)
	}
	return s, u, ids
}

func activeSessions(t *testing.T, s *Service, u *authstore.User) int {
	t.Helper()
	list, err := s.OwnSessions(u)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, v := range list {
		if v.Status == "active" {
			n++
		}
	}
	return n
}

// TestChangePassword: each refusal changes nothing; a change ends the
// other sessions unless asked to keep them, never the caller's own.
func TestChangePassword(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change PasswordChange
		status int
		reason string
		active int // sessions left
	}{
		{"wrong current", PasswordChange{Current: "nope nope", New: "new password 1", Confirm: "new password 1"}, http.StatusForbidden, AccountWrongPassword, 3},
		{"short", PasswordChange{Current: "old password 1", New: "short", Confirm: "short"}, http.StatusBadRequest, AccountBadPassword, 3},
		{"mismatch", PasswordChange{Current: "old password 1", New: "new password 1", Confirm: "new password 2"}, http.StatusBadRequest, AccountMismatch, 3},
		{"ends the others", PasswordChange{Current: "old password 1", New: "new password 1", Confirm: "new password 1"}, 0, "", 1},
		{"keeps them", PasswordChange{Current: "old password 1", New: "new password 1", Confirm: "new password 1", KeepSessions: true}, 0, "", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, u, ids := accountUser(t)
			tc.change.SessionID, tc.change.IP = ids[0], "192.0.2.1"
			_, err := s.ChangePassword(context.Background(), u, tc.change)
			wantProblem(t, err, tc.status, tc.reason)
			if got := activeSessions(t, s, u); got != tc.active {
				t.Errorf("%d sessions active, want %d", got, tc.active)
			}
			if sess, _ := s.Store.Session(ids[0]); sess.Status(time.Now()) != "active" {
				t.Error("the caller's own session ended")
			}
			want := "old password 1"
			if tc.status == 0 {
				want = "new password 1"
			}
			if _, err := s.Store.CheckLogin(context.Background(), "alice", want, "", ""); err != nil {
				t.Errorf("password %q does not sign in: %v", want, err)
			}
		})
	}
}

// TestChangePasswordThrottled: guessing the current password locks as
// the login form does, and a locked guess is not even checked.
func TestChangePasswordThrottled(t *testing.T) {
	t.Parallel()
	s, u, ids := accountUser(t)
	wrong := PasswordChange{Current: "guess guess", New: "new password 1", Confirm: "new password 1", SessionID: ids[0], IP: "192.0.2.1"}
	var err error
	for range 20 {
		if _, err = s.ChangePassword(context.Background(), u, wrong); statusOf(t, err) == http.StatusTooManyRequests {
			break
		}
	}
	wantProblem(t, err, http.StatusTooManyRequests, "login_throttled")
	right := wrong
	right.Current = "old password 1"
	_, err = s.ChangePassword(context.Background(), u, right)
	wantProblem(t, err, http.StatusTooManyRequests, "login_throttled")
}

// TestOwnTOTP: enrolment, a wrong confirming code, confirmation with
// recovery codes, turning off with a fresh code.
func TestOwnTOTP(t *testing.T) {
	t.Parallel()
	s, u, _ := accountUser(t)
	if _, ok := s.PendingTOTP(u); ok {
		t.Fatal("an enrolment before any began")
	}
	_, err := s.ConfirmTOTP(u, "123456", "192.0.2.1")
	wantProblem(t, err, http.StatusConflict, AccountTOTPOff)
	e, err := s.BeginTOTP(u, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	pu, _ := url.Parse(e.URL)
	secret := pu.Query().Get("secret")
	u, _ = s.Store.UserByLogin("alice")
	if again, ok := s.PendingTOTP(u); !ok || again.URL != e.URL {
		t.Errorf("pending %q, began %q", again.URL, e.URL)
	}
	code, _ := totp.GenerateCode(secret, time.Now())
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	_, err = s.ConfirmTOTP(u, wrong, "192.0.2.1")
	wantProblem(t, err, http.StatusForbidden, AccountWrongCode)
	codes, err := s.ConfirmTOTP(u, code, "192.0.2.1")
	if err != nil || len(codes) != authstore.RecoveryCodeCount {
		t.Fatalf("confirm: %v %v", codes, err)
	}
	_, err = s.BeginTOTP(u, "192.0.2.1")
	wantProblem(t, err, http.StatusConflict, AccountTOTPOn)
	// The confirming code was used; off needs another.
	err = s.DisableOwnTOTP(u, code, "192.0.2.1")
	wantProblem(t, err, http.StatusForbidden, AccountWrongCode)
	later, _ := totp.GenerateCode(secret, time.Now().Add(30*time.Second))
	if err := s.DisableOwnTOTP(u, later, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	err = s.DisableOwnTOTP(u, later, "192.0.2.1")
	wantProblem(t, err, http.StatusConflict, AccountTOTPOff)
}

// TestOwnSessions: a user ends their own session, not another's, and
// "everywhere else" keeps the caller's.
func TestOwnSessions(t *testing.T) {
	t.Parallel()
	s, u, ids := accountUser(t)
	bob := mustUser(t, s, "bob", nil, nil)
	other, err := s.Store.CreateSession(authstore.NewSession{UserID: bob.ID, Kind: authstore.SessionCLI, TTL: time.Hour}, authstore.AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	wantProblem(t, s.EndOwnSession(u, other.ID, ""), http.StatusNotFound, AccountNotYours)
	wantProblem(t, s.EndOwnSession(u, "ses_nope", ""), http.StatusNotFound, AccountNotYours)
	if sess, _ := s.Store.Session(other.ID); sess.Status(time.Now()) != "active" {
		t.Error("bob's session ended")
	}
	if err := s.EndOwnSession(u, ids[2], ""); err != nil {
		t.Fatal(err)
	}
	if n, err := s.EndOtherSessions(u, ids[0], ""); err != nil || n != 1 {
		t.Errorf("everywhere else: %d %v", n, err)
	}
	list, _ := s.OwnSessions(u)
	if len(list) != 3 || list[len(list)-1].ID != ids[0] || activeSessions(t, s, u) != 1 {
		t.Errorf("sessions after: %+v", list)
	}
}
