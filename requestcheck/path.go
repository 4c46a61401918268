package requestcheck

import (
	"github.com/gatehouse/gatehouse/problem"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/gatehouse/gatehouse/config"
)

// Path refuses a request path that could mean one thing to Gatehouse and
// another to the upstream. Rules match the decoded, cleaned path; the
// upstream receives the path as sent and may decode it again, strip
// parameters, trailing dots or spaces, or fold look-alike characters.
// escaped is the path as sent (url.URL.EscapedPath, or url.URL.RawPath,
// which is empty when the path was sent in its default encoding and so
// holds no %2F), decoded its decoded form (url.URL.Path). Each refusal and the server that reads it
// differently:
//
//   - not canonical (dot segments, repeated slashes): /admin/../api is
//     /api to Gatehouse but may be routed by its first segment upstream;
//   - ; anywhere (path parameters): Tomcat routes /api/..;/admin as /admin;
//   - \ anywhere, or an encoded / or \ (%2F, %5C): a segment boundary to
//     Windows servers and to upstreams that decode once more;
//   - % after decoding, that is any %25 as sent: /%2561dmin is /admin to
//     an upstream that decodes twice;
//   - ? or # after decoding (%3F, %23): /admin%23x is /admin to an
//     upstream that parses the decoded path as a URL again;
//   - control characters (NUL, tab, CR, LF, C1): truncation and header
//     injection in servers written in C, or a log forged line by line;
//   - invalid UTF-8, including overlong forms (%C0%AF is "/" to decoders
//     that accept them);
//   - a segment ending in a dot or a space (/admin./x, /admin%20/x), or
//     holding "::$" (NTFS streams): IIS and Windows strip or split them;
//   - a character whose compatibility form (NFKC) holds ASCII, such as
//     the full-width solidus U+FF0F or full-width letters: servers that
//     normalise Unicode (IIS's best-fit mapping, NFKC-folding frameworks)
//     would read /ａdmin as /admin.
func Path(escaped, decoded string) *problem.Problem {
	if config.CleanPath(decoded) != decoded {
		return refuse("ambiguous_path", "the path is not canonical (dot segments, repeated slashes or an empty segment); send it cleaned")
	}
	if hasEscape(escaped, "2f", "5c") {
		return encodedSeparator()
	}
	// One pass over the decoded path; it runs on every request.
	ascii := true
	for i := 0; i < len(decoded); i++ {
		switch c := decoded[i]; {
		case c < 0x20 || c == 0x7f:
			return refuse("ambiguous_path", "the path contains a control character")
		case c == ';' || c == '\\':
			return encodedSeparator()
		case c == '%':
			return refuse("ambiguous_path", "the path contains an encoded percent sign (%25), which an upstream that decodes twice reads differently")
		case c == '?' || c == '#':
			return refuse("ambiguous_path", "the path contains an encoded ? or # (%3F, %23), which an upstream that decodes and parses it again reads as a query or a fragment")
		case c >= utf8.RuneSelf:
			ascii = false
		case c == '/' && i > 0 && (decoded[i-1] == '.' || decoded[i-1] == ' '):
			return trailingDot()
		case c == '$' && i >= 2 && decoded[i-1] == ':' && decoded[i-2] == ':':
			return refuse("ambiguous_path", "the path names an NTFS stream (::$), which Windows servers read differently")
		}
	}
	if last := decoded[len(decoded)-1]; last == '.' || last == ' ' {
		return trailingDot()
	}
	if !ascii {
		return unicodePath(decoded)
	}
	return nil
}

func encodedSeparator() *problem.Problem {
	return refuse("ambiguous_path", "the path contains a ; (path parameters), a backslash, or an encoded slash or backslash (%2F, %5C), which the upstream may read differently")
}

func trailingDot() *problem.Problem {
	return refuse("ambiguous_path", "a path segment ends in a dot or a space, which Windows servers strip; send it without")
}

// unicodePath checks the non-ASCII characters of a path: valid UTF-8, no
// C1 controls, no character that compatibility normalisation turns into
// ASCII. Only paths with non-ASCII bytes pay for this.
func unicodePath(p string) *problem.Problem {
	if !utf8.ValidString(p) {
		return refuse("ambiguous_path", "the path is not valid UTF-8 (or uses an overlong encoding)")
	}
	for _, r := range p {
		if r < utf8.RuneSelf {
			continue
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return refuse("ambiguous_path", "the path contains a control character")
		}
		s := string(r)
		if norm.NFKC.IsNormalString(s) {
			continue
		}
		for _, c := range []byte(norm.NFKC.String(s)) {
			if c < utf8.RuneSelf {
				return refuse("ambiguous_path", "the path contains a character that Unicode normalisation turns into ASCII (a full-width or compatibility form such as U+FF0F); send the plain character")
			}
		}
	}
	return nil
}

// hasEscape reports whether s holds a percent-escape of any of the given
// lower-case hex codes, in either case.
func hasEscape(s string, codes ...string) bool {
	for i := strings.IndexByte(s, '%'); i >= 0 && i+2 < len(s); {
		code := strings.ToLower(s[i+1 : i+3])
		for _, c := range codes {
			if code == c {
				return true
			}
		}
		next := strings.IndexByte(s[i+1:], '%')
		if next < 0 {
			break
		}
		i += next + 1
	}
	return false
}
