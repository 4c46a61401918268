package client

import "strings"

// maxChallenge bounds how much of a WWW-Authenticate header is parsed.
const maxChallenge = 4096

// bearerChallenge returns the parameters of the Bearer challenge among a
// response's WWW-Authenticate headers (RFC 6750 §3), keys lower-cased, and
// whether there was one.
func bearerChallenge(headers []string) (map[string]string, bool) {
	for _, h := range headers {
		scheme, params := parseChallenge(h)
		if strings.EqualFold(scheme, "Bearer") {
			return params, true
		}
	}
	return nil, false
}

// parseChallenge reads one challenge, `scheme k=v, k="quoted \"v\""`
// (RFC 9110 §11.6.1). It stops at the end of the input or where a second
// challenge begins, and never fails: malformed input gives what could be
// read.
func parseChallenge(s string) (scheme string, params map[string]string) {
	if len(s) > maxChallenge {
		s = s[:maxChallenge]
	}
	s = strings.TrimLeft(s, " \t")
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, map[string]string{}
	}
	scheme, s = s[:i], s[i:]
	params = map[string]string{}
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			return scheme, params
		}
		j := strings.IndexAny(s, "= \t,")
		if j <= 0 {
			return scheme, params
		}
		key := strings.ToLower(s[:j])
		rest := strings.TrimLeft(s[j:], " \t")
		if !strings.HasPrefix(rest, "=") {
			// A bare token: the scheme of the next challenge.
			return scheme, params
		}
		rest = strings.TrimLeft(rest[1:], " \t")
		var val string
		val, s = readValue(rest)
		if _, dup := params[key]; !dup {
			params[key] = val
		}
	}
}

// readValue reads a token or a quoted string from the start of s and
// returns it and what follows.
func readValue(s string) (string, string) {
	if !strings.HasPrefix(s, `"`) {
		end := strings.IndexAny(s, " \t,")
		if end < 0 {
			return s, ""
		}
		return s[:end], s[end:]
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case '"':
			return b.String(), s[i+1:]
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), "" // unterminated: take the rest
}
