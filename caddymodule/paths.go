package caddymodule

import (
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/config"
)

// checkPath refuses a request whose path could mean one thing to
// Gatehouse and another to the upstream. Rules match the cleaned, decoded
// path, while the upstream receives the path as sent: /admin/../api/x is
// /api/x to Gatehouse but may be routed as /admin… by an upstream that
// does not normalise; /api/projects/atlas%2Fzoo/x names atlas to Gatehouse
// and possibly "atlas/zoo" upstream; a %252F or %252E left in the decoded
// path becomes a slash or dot for an upstream that decodes twice; a ;
// starts path parameters, which Java servers strip before routing, so
// /api/wiki/..;/admin is /admin to Tomcat. Rather than guess, such
// requests get 400 before any credential is looked at, on every route.
func checkPath(r *http.Request) *denial {
	p := r.URL.Path
	if config.CleanPath(p) != p {
		return bodyError("ambiguous_path", "the path is not canonical (dot segments, repeated slashes or an empty segment); send it cleaned")
	}
	if strings.ContainsAny(p, "\\;") || hasEncoded(r.URL.EscapedPath(), "2f", "5c") || hasEncoded(p, "2f", "5c", "2e", "3b") {
		return bodyError("ambiguous_path", "the path contains a ; (path parameters), or an encoded slash, backslash or dot (%2F, %5C, %2E), which the upstream may read differently")
	}
	return nil
}

// hasEncoded reports whether s holds a percent-escape of any of the given
// lower-case hex codes, in either case.
func hasEncoded(s string, codes ...string) bool {
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
