package forwardauth

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/problem"
	"github.com/gatehouse/gatehouse/requestcheck"
)

// The headers that carry the original request, by proxy.
const (
	HeaderOriginalMethod  = "X-Original-Method"  // nginx (set by the operator)
	HeaderOriginalURI     = "X-Original-URI"     // nginx: $request_uri
	HeaderForwardedMethod = "X-Forwarded-Method" // Traefik, Caddy's forward_auth
	HeaderForwardedURI    = "X-Forwarded-Uri"    // Traefik, Caddy's forward_auth
	HeaderForwardedHost   = "X-Forwarded-Host"
)

// maxURILen bounds the original URI, as a server bounds a request line.
const maxURILen = 8 << 10

// TrustFacts says whether a request came through a trusted proxy (in
// Caddy: the server's trusted_proxies).
type TrustFacts interface {
	FromTrustedProxy(r *http.Request) bool
}

// Original rebuilds the request the proxy asks about from r, its
// subrequest: the original method, path and query, the same headers
// (the credential, Origin, the client address a trusted proxy
// forwarded), and the original host when the proxy names it. It refuses
// a subrequest from anyone but a trusted proxy (anyone could claim any
// URI), one without the original method or URI, and what inline mode
// refuses in a method or path. A method-override header is refused: the
// proxy would pass it on to an upstream that may honour it, and
// forward-auth cannot remove it.
func Original(r *http.Request, trust TrustFacts) (*http.Request, *problem.Problem) {
	if !trust.FromTrustedProxy(r) {
		return nil, problem.Forbidden("untrusted_proxy", "forward-auth answers only proxies listed in the server's trusted_proxies")
	}
	method, p := pick(r.Header, HeaderOriginalMethod, HeaderForwardedMethod)
	if p != nil {
		return nil, p
	}
	uri, p := pick(r.Header, HeaderOriginalURI, HeaderForwardedURI)
	if p != nil {
		return nil, p
	}
	if method == "" || uri == "" {
		return nil, problem.Invalid("no_original_request", "forward-auth needs the original method and URI: X-Original-Method and X-Original-URI (nginx), or X-Forwarded-Method and X-Forwarded-Uri")
	}
	if p := requestcheck.Method(method); p != nil {
		return nil, p
	}
	if len(uri) > maxURILen || !strings.HasPrefix(uri, "/") {
		return nil, problem.Invalid("bad_original_uri", "the original URI must be an absolute path of at most 8 KiB")
	}
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		return nil, problem.Invalid("bad_original_uri", "the original URI does not parse")
	}
	if p := requestcheck.Path(u.RawPath, u.Path); p != nil {
		return nil, p
	}
	if requestcheck.HasOverrideHeader(r.Header) {
		return nil, problem.Invalid("method_override", "method-override headers cannot be judged in forward-auth mode; have the proxy remove them")
	}
	orig := r.Clone(r.Context())
	orig.Method = method
	orig.URL = u
	orig.RequestURI = uri
	orig.Body, orig.ContentLength = http.NoBody, 0
	// A _method query field, found exactly as inline mode finds it (any
	// case, PHP's mangled spellings, ;-separated pairs): the body is not
	// here, so only the query is searched.
	if _, p := requestcheck.SiteMethod(orig, false); p != nil {
		return nil, p
	}
	// The host the client addressed, for the cross-origin check and the
	// assertion's default audience: a proxy's first value, when sane.
	if host, _, _ := strings.Cut(r.Header.Get(HeaderForwardedHost), ","); strings.TrimSpace(host) != "" && !strings.ContainsAny(host, "/\\@ ") {
		orig.Host = strings.TrimSpace(host)
	}
	for _, h := range []string{HeaderOriginalMethod, HeaderOriginalURI, HeaderForwardedMethod, HeaderForwardedURI} {
		orig.Header.Del(h)
	}
	return orig, nil
}

// pick is the value of whichever of the headers is set. A proxy sets
// its own pair and passes the client's other headers on (Caddy's
// forward_auth and Traefik set X-Forwarded-*, and forward a client's
// X-Original-*; nginx the other way round), so a value that is not the
// only one, or that another of the names contradicts, may be the
// client's: the subrequest is refused rather than judged by a guess.
func pick(h http.Header, names ...string) (string, *problem.Problem) {
	v := ""
	for _, n := range names {
		vals := h.Values(n)
		if len(vals) == 0 {
			continue
		}
		if len(vals) > 1 || (v != "" && vals[0] != v) {
			return "", problem.Invalid("ambiguous_original", "the subrequest names the original request twice ("+strings.Join(names, ", ")+"); have the proxy remove the client's copies")
		}
		v = vals[0]
	}
	return v, nil
}

// Match is the site rule the original request matches, with its
// placeholders, as inline mode would match it.
func Match(rules *config.Rules, orig *http.Request) (*config.CompiledRule, config.Params) {
	return rules.Match(orig.Method, orig.URL.Path)
}
