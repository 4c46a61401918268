package requestcheck

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestPath covers every class of path that one layer could read
// differently from another (class 5 of the hardening review), the
// resource names role routes must not misread (atlas%2Fzoo), and the
// ordinary paths that must keep passing.
func TestPath(t *testing.T) {
	for _, tc := range []struct {
		target string
		bad    bool
	}{
		// Ordinary paths, including names with spaces and non-ASCII.
		{"/api/projects/atlas/x", false},
		{"/api/projects/atlas", false},
		{"/api/projects/atlas/", false},
		{"/", false},
		{"/api/projects/%C3%A9t%C3%A9/x", false},
		{"/api/projects/a%20b/x", false},
		{"/api/wiki/%E4%B8%AD%E6%96%87", false},
		{"/api/wiki/v1.2/notes", false},
		{"/api/wiki/.well-known/x", false},
		{"/api/wiki/e%CC%81", false}, // e + combining acute: NFKC composes, no ASCII appears
		// Encoded slashes and backslashes, path parameters.
		{"/api/projects/atlas%2Fzoo/x", true},
		{"/api/projects/atlas%2fzoo/x", true},
		{"/api/projects/atlas%5Czoo/x", true},
		{"/api/wiki/..;/admin", true},
		{"/api/wiki;jsessionid=1/x", true},
		// Dot segments and repeated slashes.
		{"/api/projects//x", true},
		{"/api/projects/zoo/../atlas/x", true},
		{"/api/projects/./atlas/x", true},
		{"/api/projects/%2E%2E/atlas/x", true},
		{"/api/projects/atlas/x/..", true},
		// Double encoding: any %25.
		{"/api/projects/atlas%252Fzoo/x", true},
		{"/%2561dmin/x", true},
		{"/admin%25/x", true},
		// An encoded query or fragment start.
		{"/admin%23x", true},
		{"/admin%3Fx=1", true},
		{"/api/wiki/a%3fb", true},
		{"/api/%252e%252e/admin", true},
		// Trailing dots and spaces (Windows, IIS), NTFS streams.
		{"/admin./x", true},
		{"/admin%2e/x", true},
		{"/admin%20/x", true},
		{"/admin.../x", true},
		{"/api/x.", true},
		{"/admin::$DATA/x", true},
		// Control characters, decoded.
		{"/admin%00/x", true},
		{"/ad%09min/x", true},
		{"/admin%0d%0aX-Injected:%201/x", true},
		{"/admin%7f", true},
		{"/admin%C2%85", true}, // U+0085, a C1 control (NEL)
		{"/admin%E2%80%A8", true},
		// Invalid and overlong UTF-8.
		{"/admin%c0%af/x", true},
		{"/%ff/x", true},
		{"/%e0%80%af", true},
		{"/%ed%a0%80", true}, // a UTF-16 surrogate
		// Compatibility forms that normalise to ASCII.
		{"/admin%EF%BC%8Fx", true},         // U+FF0F full-width solidus
		{"/%EF%BD%81dmin/x", true},         // U+FF41 full-width a
		{"/admin%EF%BC%8E%EF%BC%8E", true}, // U+FF0E full-width full stop
		{"/a%E2%80%A4b", true},             // U+2024 one dot leader
		{"/x%C2%A0/y", true},               // U+00A0 no-break space
		{"/%E2%84%80", true},               // U+2100 account of: a/c
	} {
		r := httptest.NewRequest("GET", tc.target, nil)
		p := Path(r.URL.EscapedPath(), r.URL.Path)
		if (p != nil) != tc.bad {
			t.Errorf("%s: problem %v, want bad=%v", tc.target, p, tc.bad)
			continue
		}
		if p != nil && (p.Status != 400 || p.Reason != "ambiguous_path" || p.Message == "") {
			t.Errorf("%s: %+v", tc.target, p)
		}
	}
}

// FuzzPath checks that whatever raw path is accepted has every property
// the rules rely on: canonical, valid UTF-8, no control character, no %,
// ; or \, no encoded slash, no segment ending in a dot or space, and no
// character that NFKC turns into ASCII.
func FuzzPath(f *testing.F) {
	for _, s := range []string{"/api/x", "/%2561dmin", "/admin./x", "/a%EF%BC%8Fb", "/%c0%af", "/a/../b", "/é/x", "/a%20b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := url.ParseRequestURI(raw)
		if err != nil || u.Path == "" {
			return
		}
		p := Path(u.EscapedPath(), u.Path)
		if p != nil {
			if p.Status != 400 || p.Message == "" {
				t.Fatalf("%q: %+v", raw, p)
			}
			return
		}
		d := u.Path
		if strings.ContainsAny(d, "%;\\") || strings.Contains(strings.ToLower(u.EscapedPath()), "%2f") {
			t.Fatalf("accepted %q (decoded %q)", raw, d)
		}
		for i := 0; i < len(d); i++ {
			if d[i] < 0x20 || d[i] == 0x7f {
				t.Fatalf("accepted control in %q", raw)
			}
		}
		for seg := range strings.SplitSeq(d, "/") {
			if seg == "." || seg == ".." || strings.HasSuffix(seg, ".") || strings.HasSuffix(seg, " ") {
				t.Fatalf("accepted segment %q of %q", seg, raw)
			}
		}
		if unicodePath(d) != nil {
			t.Fatalf("accepted %q though its Unicode check fails", raw)
		}
	})
}
