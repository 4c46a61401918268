package requestcheck

import (
	"github.com/gatehouse/gatehouse/problem"
	"io"
	"net/http"
	"strings"
)

// InNamespace reports whether header name k is in Gatehouse's namespace:
// Gatehouse-* or X-Gatehouse-*, in any case and with _ or . in place of
// -, since CGI-style upstreams (PHP, WSGI) fold those together.
func InNamespace(k string) bool {
	return hasNamespacePrefix(k, "gatehouse") || hasNamespacePrefix(k, "x-gatehouse")
}

// hasNamespacePrefix reports whether k starts with prefix and a separator
// (-, _ or .), ignoring case.
func hasNamespacePrefix(k, prefix string) bool {
	if len(k) <= len(prefix) || !strings.EqualFold(k[:len(prefix)], prefix) {
		return false
	}
	switch k[len(prefix)] {
	case '-', '_', '.':
		return true
	}
	return false
}

// StripNamespace deletes every header in Gatehouse's namespace, so nothing
// a client sends can pass for an identity.
func StripNamespace(h http.Header) {
	for k := range h {
		if InNamespace(k) {
			delete(h, k)
		}
	}
}

// dropConnectionTokens removes Gatehouse's names, and the method-override
// headers' (which the rules may have judged), from the Connection
// header. A proxy deletes every header that Connection names (RFC 9110
// §7.6.1), so "Connection: close, Gatehouse-User" would have Caddy's
// proxy drop the identity Gatehouse sets, and the upstream would see an
// authenticated request with no identity, or half of one.
func dropConnectionTokens(h http.Header) {
	vals, ok := h["Connection"]
	if !ok {
		return
	}
	named := false
	for _, v := range vals {
		for tok := range strings.SplitSeq(v, ",") {
			if protected(strings.TrimSpace(tok)) {
				named = true
			}
		}
	}
	if !named {
		return
	}
	var keep []string
	for _, v := range vals {
		for tok := range strings.SplitSeq(v, ",") {
			if tok = strings.TrimSpace(tok); tok != "" && !protected(tok) {
				keep = append(keep, tok)
			}
		}
	}
	if len(keep) == 0 {
		delete(h, "Connection")
		return
	}
	h["Connection"] = []string{strings.Join(keep, ", ")}
}

// protected reports whether a Connection token names a header the
// upstream must receive as Gatehouse left it.
func protected(name string) bool { return InNamespace(name) || isOverrideHeader(name) }

// checkTrailers refuses a request that announces a trailer in Gatehouse's
// namespace and, for one that may carry trailers, drops namespace keys
// from r.Trailer when the body ends, before the proxy copies the trailers
// on: some servers merge trailers into headers, where a trailer
// Gatehouse-User: admin would pass for an identity. net/http fills
// r.Trailer only when the body reaches EOF, and accepts trailers the
// request never announced, so both the announcement and the values are
// checked.
func checkTrailers(r *http.Request) *problem.Problem {
	// net/http moves the announced names from the Trailer header into
	// r.Trailer; another server may leave the header.
	announced := false
	for k := range r.Trailer {
		announced = announced || InNamespace(k)
	}
	for _, v := range r.Header["Trailer"] {
		for tok := range strings.SplitSeq(v, ",") {
			announced = announced || InNamespace(strings.TrimSpace(tok))
		}
	}
	if announced {
		return refuse("namespace_trailer", "the request announces a trailer in Gatehouse's namespace (Gatehouse-*, X-Gatehouse-*), which is never accepted from a client")
	}
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &trailerFilter{ReadCloser: r.Body, r: r}
	}
	return nil
}

// trailerFilter deletes namespace trailers from its request at the end of
// the body, which is when net/http has read them.
type trailerFilter struct {
	io.ReadCloser
	r *http.Request
}

func (f *trailerFilter) Read(p []byte) (int, error) {
	n, err := f.ReadCloser.Read(p)
	if err == io.EOF {
		for k := range f.r.Trailer {
			if InNamespace(k) {
				delete(f.r.Trailer, k)
			}
		}
	}
	return n, err
}

// StripHeaders deletes every header that folds to one of names (given
// lower case, with - as separator: "x-remote-user") as a CGI-style
// upstream folds them, so "X_Remote_User" cannot stand in for the
// "X-Remote-User" Gatehouse sets, and removes those names from
// Connection, so a proxy does not drop the header Gatehouse set. For
// identity headers an operator renamed out of Gatehouse's namespace; the
// namespace itself Request already cleared.
func StripHeaders(h http.Header, names []string) {
	if len(names) == 0 {
		return
	}
	named := func(k string) bool {
		for _, n := range names {
			if len(k) == len(n) && foldHeaderName(k) == n {
				return true
			}
		}
		return false
	}
	for k := range h {
		if named(k) {
			delete(h, k)
		}
	}
	vals, ok := h["Connection"]
	if !ok {
		return
	}
	var keep []string
	changed := false
	for _, v := range vals {
		for tok := range strings.SplitSeq(v, ",") {
			if tok = strings.TrimSpace(tok); tok == "" {
				continue
			} else if named(tok) {
				changed = true
			} else {
				keep = append(keep, tok)
			}
		}
	}
	switch {
	case !changed:
	case len(keep) == 0:
		delete(h, "Connection")
	default:
		h["Connection"] = []string{strings.Join(keep, ", ")}
	}
}

// FoldHeaderName is a header name as StripHeaders compares it: lower
// case, with _ and . read as -.
func FoldHeaderName(k string) string { return foldHeaderName(k) }
