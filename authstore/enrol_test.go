package authstore

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// TestEnrolTOTP walks the security page's second factor: a pending seed
// that a wrong code does not switch on, a right one that does and yields
// recovery codes (hashes at rest), each of which signs in once in place
// of a code, and turning it off only with a current code.
func TestEnrolTOTP(t *testing.T) {
	c := newSessClock()
	s := openSessStore(t, c)
	sessUser(t, s, "alice")
	h, _ := HashPassword("alice's password")
	s.SetPassword("alice", h, AdminActor)
	actor := UserActor("", "192.0.2.1")

	if _, err := s.ConfirmTOTP("alice", "123456", actor); !errors.Is(err, ErrNoEnrolment) {
		t.Fatalf("confirm without enrolment: %v", err)
	}
	raw, err := s.BeginTOTP("alice", "Gatehouse", actor)
	if err != nil {
		t.Fatal(err)
	}
	pu, _ := url.Parse(raw)
	secret := pu.Query().Get("secret")
	u, _ := s.UserByLogin("alice")
	if u.TOTPSecret != "" || u.TOTPPending != secret {
		t.Fatalf("after begin: secret %q pending %q", u.TOTPSecret, u.TOTPPending)
	}
	if again := PendingTOTPURL(u, "Gatehouse"); !strings.Contains(again, "secret="+secret) {
		t.Errorf("pending URL %q lacks the seed", again)
	}
	// Until confirmed, the factor is off: a login needs no code.
	if _, err := s.CheckLogin(context.Background(), "alice", "alice's password", "", ""); err != nil {
		t.Fatalf("login during enrolment: %v", err)
	}
	code := func() string {
		cd, err := totp.GenerateCode(secret, c.Now())
		if err != nil {
			t.Fatal(err)
		}
		return cd
	}
	wrong := "000000"
	if code() == wrong {
		wrong = "111111"
	}
	if _, err := s.ConfirmTOTP("alice", wrong, actor); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("wrong confirming code: %v", err)
	}
	if u, _ := s.UserByLogin("alice"); u.TOTPSecret != "" {
		t.Fatal("a wrong code switched TOTP on")
	}
	codes, err := s.ConfirmTOTP("alice", code(), actor)
	if err != nil || len(codes) != RecoveryCodeCount {
		t.Fatalf("confirm: %d codes, %v", len(codes), err)
	}
	u, _ = s.UserByLogin("alice")
	if u.TOTPSecret != secret || u.TOTPPending != "" || len(u.RecoveryCodes) != RecoveryCodeCount {
		t.Fatalf("after confirm: %+v", u)
	}
	for _, h := range u.RecoveryCodes {
		for _, cd := range codes {
			if strings.Contains(h, cd) || strings.Contains(h, strings.ReplaceAll(cd, "-", "")) {
				t.Fatal("a recovery code is stored in plaintext")
			}
		}
	}
	if _, err := s.BeginTOTP("alice", "Gatehouse", actor); !errors.Is(err, ErrTOTPEnabled) {
		t.Errorf("begin with TOTP on: %v", err)
	}

	login := func(code string) error {
		_, err := s.CheckLogin(context.Background(), "alice", "alice's password", code, "")
		return err
	}
	if err := login(""); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("no code after confirm: %v", err)
	}
	// A recovery code, typed in capitals without dashes, signs in once.
	typed := strings.ToUpper(strings.ReplaceAll(codes[3], "-", ""))
	if err := login(typed); err != nil {
		t.Fatalf("recovery code: %v", err)
	}
	if err := login(codes[3]); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("a recovery code used twice: %v", err)
	}
	if _, err := s.CheckLogin(context.Background(), "alice", "wrong password", codes[4], ""); !errors.Is(err, ErrBadCredentials) {
		t.Fatal("a recovery code with a wrong password")
	}
	if err := login(codes[4]); err != nil {
		t.Fatalf("a recovery code offered with a wrong password was spent: %v", err)
	}
	if u, _ := s.UserByLogin("alice"); len(u.RecoveryCodes) != RecoveryCodeCount-2 {
		t.Errorf("%d codes left, want %d", len(u.RecoveryCodes), RecoveryCodeCount-2)
	}

	// Off: a recovery code or a wrong code does not do; a fresh code does.
	c.Advance(60 * time.Second)
	if _, err := s.DisableTOTPWithCode("alice", codes[5], actor); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("off with a recovery code: %v", err)
	}
	if _, err := s.DisableTOTPWithCode("alice", code(), actor); err != nil {
		t.Fatalf("off with a fresh code: %v", err)
	}
	if u, _ := s.UserByLogin("alice"); u.TOTPSecret != "" || u.RecoveryCodes != nil {
		t.Errorf("after off: %+v", u)
	}
	if _, err := s.DisableTOTPWithCode("alice", code(), actor); !errors.Is(err, ErrNoTOTP) {
		t.Errorf("off twice: %v", err)
	}
}

func TestRecoveryHash(t *testing.T) {
	t.Parallel()
	a, ok := recoveryHash("abcd-efgh-jkmn-pqrs")
	b, ok2 := recoveryHash(" ABCDEFGHJKMNPQRS ")
	if !ok || !ok2 || a != b {
		t.Errorf("normalisation: %v %v %q %q", ok, ok2, a, b)
	}
	for _, bad := range []string{"", "123456", "abcd-efgh-jkmn-pqr", "abcd-efgh-jkmn-pqrsu", "abcd-efgh-jkmn-pqri"} {
		if _, ok := recoveryHash(bad); ok {
			t.Errorf("%q taken for a recovery code", bad)
		}
	}
}

func TestRevokeUserSessionsExcept(t *testing.T) {
	c := newSessClock()
	s := openSessStore(t, c)
	u := sessUser(t, s, "alice")
	var ids []string
	for range 3 {
		sess, err := s.CreateSession(NewSession{UserID: u.ID, Kind: SessionBrowser, TTL: time.Hour}, AdminActor)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, sess.ID)
	}
	n, err := s.RevokeUserSessionsExcept(u.ID, ids[1], AdminActor, "sign out everywhere else")
	if err != nil || n != 2 {
		t.Fatalf("ended %d, %v", n, err)
	}
	for i, id := range ids {
		sess, _ := s.Session(id)
		if got, want := sess.Status(c.Now()), map[bool]string{true: "active", false: "revoked"}[i == 1]; got != want {
			t.Errorf("session %d: %s, want %s", i, got, want)
		}
	}
}
