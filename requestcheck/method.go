package requestcheck

import (
	"bytes"
	"github.com/gatehouse/gatehouse/problem"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse/config"
)

// Request is the first check of every request, endpoints and site routes
// alike: it deletes client headers in Gatehouse's namespace, removes
// Gatehouse's names from Connection, keeps namespace trailers out, and
// refuses a method that is not a known one in upper case or a path that
// could read differently upstream.
func Request(r *http.Request) *problem.Problem {
	StripNamespace(r.Header)
	dropConnectionTokens(r.Header)
	if p := Method(r.Method); p != nil {
		return p
	}
	if p := checkTrailers(r); p != nil {
		return p
	}
	// RawPath is the path as sent when that differs from the default
	// encoding of Path, which is when it holds an escape such as %2F.
	return Path(r.URL.RawPath, r.URL.Path)
}

// Method refuses a method that is not a known one spelled exactly (upper
// case). Methods are case-sensitive (RFC 9110 §9.1), but frameworks
// upper-case them before routing, so "delete" passed to the upstream
// would act as DELETE after no DELETE rule matched it.
func Method(m string) *problem.Problem {
	if config.IsMethod(m) {
		return nil
	}
	return refuse("unknown_method", "unknown request method; methods are case-sensitive: send GET, POST, PUT, PATCH, DELETE, … in upper case")
}

// overrideHeaders are the method-override headers frameworks honour
// (Rack::MethodOverride, Express method-override, ASP.NET, Symfony),
// lower-cased with - as the separator.
var overrideHeaders = []string{"x-http-method-override", "x-http-method", "x-method-override"}

// isOverrideHeader reports whether k names a method-override header, in
// any case and with _ or . in place of -.
func isOverrideHeader(k string) bool {
	if len(k) < len("x-http-method") || (k[0] != 'x' && k[0] != 'X') {
		return false
	}
	for _, o := range overrideHeaders {
		if len(k) == len(o) && foldHeaderName(k) == o {
			return true
		}
	}
	return false
}

func foldHeaderName(k string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r == '.' {
			return '-'
		}
		return r
	}, strings.ToLower(k))
}

// maxFormScan is the largest urlencoded POST body searched for a _method
// field. A larger one is refused (413) rather than passed unsearched,
// since Rails, Laravel and Symfony read the whole form.
const maxFormScan = 1 << 20

// SiteMethod returns the method the site's rules judge, after dealing
// with method overrides: X-HTTP-Method-Override, X-HTTP-Method and
// X-Method-Override headers, and a _method field in the query or in an
// urlencoded POST body. Frameworks honour these, so a GET that passed a
// GET rule could act as a DELETE upstream.
//
// Unless allow is set, override headers are deleted and a _method field
// is refused (it cannot be deleted without changing the request). With
// allow, they reach the upstream and the overridden method, upper-cased
// as frameworks do, is what the rules judge; overrides that disagree, or
// name no known method, are refused. Overrides are honoured only on POST,
// as the frameworks honour them: on any other method they are refused,
// since the upstream would act on the real method while the rules judged
// another.
func SiteMethod(r *http.Request, allow bool) (string, *problem.Problem) {
	var asked []string
	for k, vs := range r.Header {
		if !isOverrideHeader(k) {
			continue
		}
		if !allow {
			delete(r.Header, k)
			continue
		}
		asked = append(asked, vs...)
	}
	if vs := methodFields(r.URL.RawQuery); len(vs) > 0 {
		if !allow {
			return "", refuse("method_override", "a _method query parameter (method override) is not accepted here; send the request with its real method")
		}
		asked = append(asked, vs...)
	}
	if ct := r.Header.Get("Content-Type"); r.Method == http.MethodPost && ct != "" {
		vs, p := bodyMethodFields(r, ct)
		if p != nil {
			return "", p
		}
		if len(vs) > 0 {
			if !allow {
				return "", refuse("method_override", "a _method form field (method override) is not accepted here; send the request with its real method")
			}
			asked = append(asked, vs...)
		}
	}
	if len(asked) == 0 {
		return r.Method, nil
	}
	if r.Method != http.MethodPost {
		return "", refuse("method_override", "a method override is honoured only on POST")
	}
	m := strings.ToUpper(strings.TrimSpace(asked[0]))
	for _, v := range asked[1:] {
		if strings.ToUpper(strings.TrimSpace(v)) != m {
			return "", refuse("method_override", "the request's method overrides disagree")
		}
	}
	if !config.IsMethod(m) {
		return "", refuse("method_override", "the method override names no known method")
	}
	return m, nil
}

// mediaType is a Content-Type's media type, read as leniently as Rack
// does (up to the first ';' or ','), so that a malformed parameter does
// not hide a form from the search while the framework still parses it.
func mediaType(contentType string) string {
	if i := strings.IndexAny(contentType, ";,"); i >= 0 {
		contentType = contentType[:i]
	}
	return strings.ToLower(strings.TrimSpace(contentType))
}

// bodyMethodFields searches a POST form body for _method fields and puts
// the body back for the upstream: an urlencoded body whole (up to
// maxFormScan; a larger one is refused), a multipart body in its first
// maxFormScan bytes (uploads may be larger; a field after that is not
// seen, which the README says).
func bodyMethodFields(r *http.Request, contentType string) ([]string, *problem.Problem) {
	mt := mediaType(contentType)
	if mt != "application/x-www-form-urlencoded" && mt != "multipart/form-data" || r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	buf, err := io.ReadAll(io.LimitReader(r.Body, maxFormScan+1))
	if err != nil {
		return nil, refuse("unreadable_body", "the request body could not be read")
	}
	whole := len(buf) <= maxFormScan
	if whole {
		r.Body = replayBody{Reader: bytes.NewReader(buf), Closer: r.Body}
	} else {
		r.Body = replayBody{Reader: io.MultiReader(bytes.NewReader(buf), r.Body), Closer: r.Body}
	}
	if mt == "multipart/form-data" {
		return multipartMethodFields(buf, contentType), nil
	}
	if !whole {
		return nil, &problem.Problem{Status: http.StatusRequestEntityTooLarge, Code: "invalid_request", Reason: "form_too_large",
			Message: "an urlencoded form body over 1 MiB is not accepted; send large uploads as multipart/form-data"}
	}
	return methodFields(string(buf)), nil
}

// multipartMethodFields returns the values of the _method parts of a
// multipart body (or of its first bytes, in buf).
func multipartMethodFields(buf []byte, contentType string) []string {
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil || params["boundary"] == "" {
		return nil
	}
	var out []string
	mr := multipart.NewReader(bytes.NewReader(buf), params["boundary"])
	for {
		part, err := mr.NextPart()
		if err != nil {
			return out
		}
		if isMethodKey(part.FormName()) {
			v, _ := io.ReadAll(io.LimitReader(part, 64))
			out = append(out, string(v))
		}
	}
}

// isMethodKey reports whether a decoded form key is _method, in any case
// and with PHP's mangling undone (a leading ".", " " or "[" becomes "_").
func isMethodKey(k string) bool {
	return len(k) == len("_method") && strings.EqualFold(k[1:], "method") && strings.ContainsRune("_. [", rune(k[0]))
}

type replayBody struct {
	io.Reader
	io.Closer
}

// methodFields returns the values of the _method fields of an urlencoded
// query or form. Keys are decoded and compared without case, and PHP's
// mangling is undone (it turns a leading ".", " " or "[" into "_"), so
// %5Fmethod, _METHOD and .method all count.
func methodFields(q string) []string {
	if q == "" || (!strings.Contains(strings.ToLower(q), "method") && strings.IndexByte(q, '%') < 0) {
		return nil
	}
	var out []string
	for pair := range strings.SplitSeq(q, "&") {
		for field := range strings.SplitSeq(pair, ";") {
			k, v, _ := strings.Cut(field, "=")
			if dk, err := url.QueryUnescape(k); err == nil {
				k = dk
			}
			if !isMethodKey(k) {
				continue
			}
			if dv, err := url.QueryUnescape(v); err == nil {
				v = dv
			}
			out = append(out, v)
		}
	}
	return out
}

// HasOverrideHeader reports whether h holds a method-override header, in
// any spelling a framework honours. Forward-auth mode cannot delete one
// from the request the proxy passes on, so it refuses it instead.
func HasOverrideHeader(h http.Header) bool {
	for k := range h {
		if isOverrideHeader(k) {
			return true
		}
	}
	return false
}
