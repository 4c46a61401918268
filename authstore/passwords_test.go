package authstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestHashPassword(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=47104,t=2,p=1$") || strings.Contains(h, "correct horse") {
		t.Fatalf("hash %q", h)
	}
	if err := ValidatePasswordHash(h); err != nil {
		t.Fatal(err)
	}
	for pw, want := range map[string]bool{"correct horse battery": true, "correct horse batterY": false, "": false} {
		if ok, err := verifyPassword(context.Background(), h, pw); err != nil || ok != want {
			t.Errorf("verify %q = %v, %v", pw, ok, err)
		}
	}
	again, _ := HashPassword("correct horse battery")
	if again == h {
		t.Error("two hashes of one password are equal: no salt")
	}
}

func TestPasswordPolicy(t *testing.T) {
	for pw, ok := range map[string]bool{
		"short":                     false,
		"eight ch":                  true,
		"密码密码密码密码":                  true, // 8 characters
		strings.Repeat("x", 1025):   false,
		"bad utf8 \xff\xfe\xfd\xfc": false,
	} {
		if err := CheckPasswordPolicy(pw); (err == nil) != ok {
			t.Errorf("%q: %v", pw, err)
		}
	}
}

func TestValidatePasswordHash(t *testing.T) {
	bc, _ := bcrypt.GenerateFromPassword([]byte("imported password"), bcrypt.MinCost)
	cases := map[string]bool{
		string(bc): true,
		"$argon2id$v=19$m=47104,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE":   true,
		"$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE": false, // 4 GiB
		"$argon2id$v=19$m=47104,t=99,p=1$c2FsdHNhbHRzYWx0c2FsdA$YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE":  false,
		"$argon2i$v=19$m=47104,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE":    false,
		"$argon2id$v=16$m=47104,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE":   false,
		"$argon2id$v=19$m=47104,t=2,p=1$!!$YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE":                       false,
		"plaintext": false,
		"":          false,
	}
	for h, ok := range cases {
		if err := ValidatePasswordHash(h); (err == nil) != ok {
			t.Errorf("%.40q: %v", h, err)
		}
	}
	if ok, err := verifyPassword(context.Background(), string(bc), "imported password"); !ok || err != nil {
		t.Errorf("bcrypt verify: %v %v", ok, err)
	}
}

func TestCheckLogin(t *testing.T) {
	c := newSessClock()
	s := openSessStore(t, c)
	alice := sessUser(t, s, "alice")
	sessUser(t, s, "nopass")
	h, _ := HashPassword("alice's password")
	if _, err := s.SetPassword("alice", h, AdminActor); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetPassword("alice", "not a hash", AdminActor); err == nil {
		t.Fatal("a malformed hash was stored")
	}

	if u, err := s.CheckLogin(context.Background(), "ALICE", "alice's password", "", "192.0.2.1"); err != nil || u.ID != alice.ID {
		t.Fatalf("good login: %v", err)
	}
	failures := []struct{ login, pw string }{
		{"alice", "wrong password"},
		{"nobody", "alice's password"},
		{"nopass", ""},
		{"", ""},
		{"alice", strings.Repeat("x", 5000)},
	}
	for _, f := range failures {
		if _, err := s.CheckLogin(context.Background(), f.login, f.pw, "", "192.0.2.1"); !errors.Is(err, ErrBadCredentials) || err.Error() != ErrBadCredentials.Error() {
			t.Errorf("%s/%.10s: %v", f.login, f.pw, err)
		}
	}
	events, _ := s.Audit("", 0)
	var failed []Event
	for _, e := range events {
		if e.Action == ActionLoginFailed {
			failed = append(failed, e)
			if strings.Contains(e.Detail, "nobody") || strings.Contains(e.Detail, "password'") {
				t.Errorf("audit keeps what was typed: %+v", e)
			}
		}
	}
	if len(failed) != len(failures) {
		t.Errorf("%d login.failed events, want %d", len(failed), len(failures))
	}

	s.UpdateUser("alice", AdminActor, "disabled", func(u *User) error { u.Disabled = true; return nil })
	if _, err := s.CheckLogin(context.Background(), "alice", "alice's password", "", ""); !errors.Is(err, ErrUserDisabled) {
		t.Errorf("disabled: %v", err)
	}
	if _, err := s.CheckLogin(context.Background(), "alice", "wrong", "", ""); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("disabled, wrong password: %v", err)
	}
}

// TestUnknownLoginCostsAHash checks the timing defence without timing
// anything (a loaded machine would make a stopwatch lie): a login for an
// account that does not exist, or that has no password, waits for a
// hashing slot like any other (a cancelled context shows it reached the
// hash), and the hash it computes has the same argon2id cost as a real
// one.
func TestUnknownLoginCostsAHash(t *testing.T) {
	s := openSessStore(t, nil)
	sessUser(t, s, "alice")
	sessUser(t, s, "nopass")
	real, _ := HashPassword("alice's password")
	s.SetPassword("alice", real, AdminActor)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, login := range []string{"alice", "nobody", "nopass"} {
		if _, err := s.CheckLogin(cancelled, login, "guess guess", "", ""); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: %v, want the hash to have been reached (context.Canceled)", login, err)
		}
	}
	fake, err := parseArgon2id(fakeHash())
	if err != nil {
		t.Fatal(err)
	}
	want, _ := parseArgon2id(real)
	if fake.time != want.time || fake.memory != want.memory || fake.threads != want.threads || len(fake.key) != len(want.key) || len(fake.salt) != len(want.salt) {
		t.Errorf("the fake hash costs t=%d m=%d p=%d, a real one t=%d m=%d p=%d", fake.time, fake.memory, fake.threads, want.time, want.memory, want.threads)
	}
}

// BenchmarkHashPassword measures one argon2id hash at the production cost
// (the design asks for 50–100 ms).
func BenchmarkHashPassword(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := HashPassword("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBcryptCostBounded: an imported bcrypt hash of absurd cost is
// refused, since checking it would hold a hashing slot for days.
func TestBcryptCostBounded(t *testing.T) {
	for cost, ok := range map[int]bool{4: true, 14: true, 15: false, 31: false} {
		h := fmt.Sprintf("$2a$%02d$", cost) + strings.Repeat("a", 53)
		if err := ValidatePasswordHash(h); (err == nil) != ok {
			t.Errorf("cost %d: %v", cost, err)
		}
	}
}
