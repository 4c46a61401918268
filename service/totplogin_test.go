package service

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/problem"
)

// TestCLILoginTOTPRequired: the right password for an account with TOTP,
// sent without a code, is refused with api.ErrorTOTPRequired on the CLI
// login and counted against the backoff like a failure; a wrong password
// without a code stays the single failure (the answer tells nothing the
// caller did not prove), the login form never tells the two apart, and
// the right code logs in.
func TestCLILoginTOTPRequired(t *testing.T) {
	t.Parallel()
	const ip = "198.51.100.20"
	s := newLoginService(t, "alice", "alice password 1")
	u, err := s.Store.EnableTOTP("alice", "example", authstore.AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	key, err := otp.NewKeyFromURL(u)
	if err != nil {
		t.Fatal(err)
	}
	keys := newLoginKeys("alice", ip)

	cases := []struct {
		name        string
		cli         bool
		pw, code    string
		status      int
		wantCode    string
		wantCounted int // failures on the account from this IP afterwards
	}{
		{"cli, right password, no code", true, "alice password 1", "", http.StatusUnauthorized, api.ErrorTOTPRequired, 1},
		{"cli, wrong password, no code", true, "wrong password!", "", http.StatusUnauthorized, api.ErrorInvalidCredentials, 2},
		{"form, right password, no code", false, "alice password 1", "", http.StatusUnauthorized, api.ErrorInvalidCredentials, 3},
		{"cli, right password, wrong code", true, "alice password 1", "000000x", http.StatusUnauthorized, api.ErrorInvalidCredentials, 4},
	}
	for _, c := range cases {
		var err error
		if c.cli {
			_, err = s.CLILogin(context.Background(), "alice", c.pw, c.code, ip, "test")
		} else {
			_, err = s.CheckPassword(context.Background(), "alice", c.pw, c.code, ip)
		}
		var p *problem.Problem
		if !errors.As(err, &p) || p.Status != c.status || p.Code != c.wantCode {
			t.Errorf("%s: %v (%+v), want %d %s", c.name, err, p, c.status, c.wantCode)
		}
		if n := s.Logins.counted(keys.accountIP); n != c.wantCounted {
			t.Errorf("%s: %d failures counted, want %d", c.name, n, c.wantCounted)
		}
	}
	// Four failures are within the free ones: the right code logs in and
	// settles the account.
	code, err := totp.GenerateCode(key.Secret(), s.now())
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := s.CLILogin(context.Background(), "alice", "alice password 1", code, ip, "test"); err != nil || tok.RefreshToken == "" {
		t.Fatalf("login with the code: %+v %v", tok, err)
	}
	if n := s.Logins.counted(keys.accountIP); n != 0 {
		t.Errorf("%d failures left after a success", n)
	}
}
