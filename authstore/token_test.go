package authstore

import (
	"strings"
	"testing"
)

func TestNewTokenShape(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		tok, err := NewToken("qat_")
		if err != nil {
			t.Fatal(err)
		}
		if len(tok) != len("qat_")+36 || !strings.HasPrefix(tok, "qat_") {
			t.Fatalf("token %q has the wrong shape", tok)
		}
		if err := CheckToken("qat_", tok); err != nil {
			t.Fatalf("fresh token %q does not check: %v", tok, err)
		}
		if seen[tok] {
			t.Fatalf("duplicate token %q", tok)
		}
		seen[tok] = true
	}
}

func TestCheckToken(t *testing.T) {
	good, _ := NewToken("kp_")
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		return string(b)
	}
	cases := []struct {
		name   string
		prefix string
		tok    string
		want   error
	}{
		{"valid", "kp_", good, nil},
		{"other prefix", "qat_", good, ErrMalformedToken},
		{"prefix only", "kp_", "kp_", ErrMalformedToken},
		{"too short", "kp_", good[:len(good)-1], ErrMalformedToken},
		{"too long", "kp_", good + "a", ErrMalformedToken},
		{"non-base62", "kp_", good[:10] + "-" + good[11:], ErrMalformedToken},
		{"non-ASCII", "kp_", good[:10] + "é" + good[12:], ErrMalformedToken},
		{"typo in random part", "kp_", flip(good, 5), ErrTokenChecksum},
		{"typo in checksum", "kp_", flip(good, len(good)-1), ErrTokenChecksum},
		{"empty", "kp_", "", ErrMalformedToken},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := CheckToken(tc.prefix, tc.tok); got != tc.want {
				t.Errorf("CheckToken(%q) = %v, want %v", tc.tok, got, tc.want)
			}
		})
	}
}

func TestValidatePrefix(t *testing.T) {
	for _, ok := range []string{"gth_", "qat_", "kp_", "divbase_pat_", "a_"} {
		if err := ValidatePrefix(ok); err != nil {
			t.Errorf("ValidatePrefix(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "_", "gth", "GTH_", "gth-", "g h_", strings.Repeat("a", MaxPrefixLen) + "_"} {
		if ValidatePrefix(bad) == nil {
			t.Errorf("ValidatePrefix(%q) accepted", bad)
		}
	}
}

func TestTokenHint(t *testing.T) {
	tok := "qat_abcdEFGH" + strings.Repeat("x", 28)
	if got := TokenHint("qat_", tok); got != "qat_abcd****" {
		t.Errorf("hint = %q", got)
	}
}

func TestHashTokenMatchesLongInput(t *testing.T) {
	long := strings.Repeat("z", MaxTokenLen+10)
	if HashToken(long) == HashToken(long[:MaxTokenLen]) {
		t.Error("hash ignores bytes past the stack buffer")
	}
}

func FuzzCheckToken(f *testing.F) {
	good, _ := NewToken("gth_")
	for _, s := range []string{good, "", "gth_", "gth_" + strings.Repeat("0", 36), good + "=", "gth_\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := CheckToken("gth_", s)
		if err == nil {
			// Anything accepted must have the exact shape and hash stably.
			if len(s) != len("gth_")+36 || !strings.HasPrefix(s, "gth_") {
				t.Fatalf("accepted malformed %q", s)
			}
			if HashToken(s) != HashToken(strings.Clone(s)) {
				t.Fatal("unstable hash")
			}
		}
		_ = TokenHint("gth_", s)
	})
}

func BenchmarkCheckAndHash(b *testing.B) {
	tok, _ := NewToken("gth_")
	b.ReportAllocs()
	for b.Loop() {
		if CheckToken("gth_", tok) != nil {
			b.Fatal("bad")
		}
		_ = HashToken(tok)
	}
}
