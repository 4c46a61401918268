package authstore

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// badTokenNames are names every way of naming a token must refuse.
var badTokenNames = map[string]string{
	"NUL":                    "a\x00b",
	"NUL alone":              "\x00",
	"ANSI escape":            "\x1b[31mred",
	"right-to-left":          "a\u202eb",
	"left-to-right isolate":  "invoice\u2066gpj.exe",
	"zero-width space":       "a\u200bb",
	"BOM":                    "\ufeffname",
	"line separator":         "a\u2028b",
	"invalid UTF-8":          "\xff",
	"truncated UTF-8":        "caf\xc3",
	"CR LF":                  "\r\n",
	"CR LF inside":           "a\r\nb",
	"tab":                    "a\tb",
	"DEL":                    "a\x7f",
	"C1 control":             "a\u009bb",
	"trailing newline":       "laptop\n",
	"empty":                  "",
	"only spaces":            "   ",
	"only ideographic space": "\u3000",
	"too long":               strings.Repeat("x", MaxTokenNameLen+1),
	"too long in runes":      strings.Repeat("é", MaxTokenNameLen+1),
}

func TestCheckTokenName(t *testing.T) {
	for name, in := range badTokenNames {
		t.Run(name, func(t *testing.T) {
			got, err := CheckTokenName(in)
			if !errors.Is(err, ErrInvalidName) || got != "" {
				t.Fatalf("CheckTokenName(%q) = %q, %v; want ErrInvalidName", in, got, err)
			}
			if !strings.HasPrefix(err.Error(), "token name must ") {
				t.Errorf("message %q", err)
			}
		})
	}
	for in, want := range map[string]string{
		"laptop":                             "laptop",
		"  ci runner  ":                      "ci runner",
		"笔记本电脑":                              "笔记本电脑",
		"été – 2026":                         "été – 2026",
		"emoji 🔑":                            "emoji 🔑",
		"a  b":                               "a  b",
		strings.Repeat("x", MaxTokenNameLen): strings.Repeat("x", MaxTokenNameLen),
		strings.Repeat("日", MaxTokenNameLen): strings.Repeat("日", MaxTokenNameLen),
	} {
		if got, err := CheckTokenName(in); err != nil || got != want {
			t.Errorf("CheckTokenName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestSanitizeUserAgent(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"curl/8.5.0", "curl/8.5.0"},
		{"Mozilla/5.0 (X11; Linux x86_64)", "Mozilla/5.0 (X11; Linux x86_64)"},
		{"  padded  ", "padded"},
		{"日本語 client", "日本語 client"},
		{"evil\x1b[2J\x1b[Hclient", "evil\ufffd[2J\ufffd[Hclient"},
		{"a\r\nSet-Cookie: x", "a\ufffdSet-Cookie: x"},
		{"a\u202egpj.exe", "a\ufffdgpj.exe"},
		{"bad\xff\xfebytes", "bad\ufffdbytes"},
		{"nul\x00", "nul\ufffd"},
		{"\x00\x01", "\ufffd"},
		{"", ""},
	} {
		if got := SanitizeUserAgent(tc.in); got != tc.want {
			t.Errorf("SanitizeUserAgent(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// Long agents are cut on a character boundary.
	for _, in := range []string{strings.Repeat("a", 10000), strings.Repeat("é", 1000), "x" + strings.Repeat("日", 1000), strings.Repeat("\x00a", 1000)} {
		got := SanitizeUserAgent(in)
		if len(got) > maxUserAgentLen || len(got) < maxUserAgentLen-3 || !utf8.ValidString(got) {
			t.Errorf("SanitizeUserAgent of %d bytes: %d bytes, valid %v", len(in), len(got), utf8.ValidString(got))
		}
	}
}

// FuzzSanitizeUserAgent: whatever a client sends, what is kept is valid,
// bounded and free of unsafe runes.
func FuzzSanitizeUserAgent(f *testing.F) {
	for _, s := range []string{"curl/8", "\x1b[31m", "a\u202eb", "\xff", "\r\n", strings.Repeat("é", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := SanitizeUserAgent(in)
		if len(got) > maxUserAgentLen || !utf8.ValidString(got) || strings.ContainsFunc(got, unsafeRune) {
			t.Fatalf("SanitizeUserAgent(%q) = %q", in, got)
		}
	})
}

// TestStoreRefusesBadTokenNames: the store itself refuses a bad name for
// a PAT, a device grant's suggested name and a device approval, and stores
// nothing.
func TestStoreRefusesBadTokenNames(t *testing.T) {
	s, _ := openTest(t, Options{})
	u := mustUser(t, s, "alice")
	for name, bad := range badTokenNames {
		t.Run(name, func(t *testing.T) {
			if _, _, err := s.CreatePAT(NewPAT{UserID: u.ID, Prefix: "gth_", Name: bad, Scopes: []string{"a:b"}, CreatedVia: ViaAdmin}, AdminActor); !errors.Is(err, ErrInvalidName) {
				t.Errorf("CreatePAT: %v", err)
			}
			if bad != "" { // no suggestion is allowed: the page offers a default
				if _, _, err := s.CreateDeviceGrant(NewDeviceGrant{ClientID: "cli", TokenName: bad, TTL: time.Minute, Interval: time.Second}); !errors.Is(err, ErrInvalidName) {
					t.Errorf("CreateDeviceGrant: %v", err)
				}
			}
			_, uc := newGrant(t, s)
			approval := &NewPAT{Prefix: "gth_", Name: bad, Scopes: []string{"a:b"}, CreatedVia: ViaDevice}
			if _, err := s.DecideDevice(uc, u.ID, approval, AdminActor); !errors.Is(err, ErrInvalidName) {
				t.Errorf("DecideDevice: %v", err)
			}
			if g, err := s.DeviceGrantByUserCode(uc); err != nil || g.Status != DevicePending {
				t.Errorf("the refused approval changed the grant: %v %+v", err, g)
			}
		})
	}
	if pats, err := s.PATs(u.ID); err != nil || len(pats) != 0 {
		t.Errorf("tokens stored: %d %v", len(pats), err)
	}
	// A good name is stored trimmed.
	if _, p, err := s.CreatePAT(NewPAT{UserID: u.ID, Prefix: "gth_", Name: "  laptop ", Scopes: []string{"a:b"}, CreatedVia: ViaAdmin}, AdminActor); err != nil || p.Name != "laptop" {
		t.Errorf("a good name: %v %+v", err, p)
	}
}

// TestStoredUserAgentsSanitised: the User-Agent a session or a device
// grant keeps (and pages show) holds no control or format characters and
// no invalid UTF-8, however the client sent it.
func TestStoredUserAgentsSanitised(t *testing.T) {
	s, _ := openTest(t, Options{})
	u := mustUser(t, s, "alice")
	for _, tc := range []struct{ ua, want string }{
		{"curl/8.5.0", "curl/8.5.0"},
		{"evil\x1b]0;pwned\x07tool", "evil\ufffd]0;pwned\ufffdtool"},
		{"a\r\nb", "a\ufffdb"},
		{"x\u202egnp.exe", "x\ufffdgnp.exe"},
		{"bad\xffutf8", "bad\ufffdutf8"},
		{strings.Repeat("日", 200), strings.Repeat("日", maxUserAgentLen/3)},
	} {
		sess, err := s.CreateSession(NewSession{UserID: u.ID, Kind: SessionBrowser, TTL: time.Hour, UserAgent: tc.ua}, AdminActor)
		if err != nil {
			t.Fatal(err)
		}
		if stored, err := s.Session(sess.ID); err != nil || stored.UserAgent != tc.want || sess.UserAgent != tc.want {
			t.Errorf("session UA %q: stored %q, want %q (%v)", tc.ua, stored.UserAgent, tc.want, err)
		}
		_, uc, err := s.CreateDeviceGrant(NewDeviceGrant{ClientID: "cli", UserAgent: tc.ua, TTL: time.Minute, Interval: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if g, err := s.DeviceGrantByUserCode(uc); err != nil || g.UserAgent != tc.want {
			t.Errorf("device UA %q: stored %q, want %q (%v)", tc.ua, g.UserAgent, tc.want, err)
		}
	}
}
