package config

import (
	"fmt"
	"path"
	"strings"
	"unicode/utf8"
)

// A pathPattern follows Caddy's path matcher: case-insensitive, matched
// against the cleaned path (dots resolved, slashes merged, trailing slash
// kept); "*" alone matches everything, "/p/*" is a prefix, "*.x" a suffix,
// "*x*" a substring, other wildcards glob with path.Match. A pattern with
// {name} segments captures those segments for role rules; there "*" stands
// for one segment, or for the rest of the path when it is last.
type pathPattern struct {
	kind patternKind
	lit  string    // lower-cased literal for exact/prefix/suffix/contains/glob
	segs []segment // for kindSegments, split on '/'
}

type patternKind uint8

const (
	kindAny patternKind = iota
	kindExact
	kindPrefix
	kindSuffix
	kindContains
	kindGlob
	kindSegments
)

type segment struct {
	lit   string // lower-cased literal; empty for a parameter or wildcard
	param string // parameter name for {name}
	star  bool   // "*": one segment, or the rest when last
}

// maxParams bounds the {name} segments in one pattern so a match needs no
// allocation.
const maxParams = 4

func compilePath(p string) (pathPattern, error) {
	if p == "" || p == "*" {
		return pathPattern{kind: kindAny}, nil
	}
	if p[0] != '/' && p[0] != '*' {
		return pathPattern{}, fmt.Errorf("path %q: must start with / or *", p)
	}
	if strings.Contains(p, "%") {
		return pathPattern{}, fmt.Errorf("path %q: escaped patterns are not supported; write the decoded path", p)
	}
	if strings.ContainsAny(p, "{}") {
		return compileSegments(p)
	}
	lower := strings.ToLower(p)
	if _, err := path.Match(lower, ""); err != nil {
		return pathPattern{}, fmt.Errorf("path %q: %w", p, err)
	}
	stars := strings.Count(lower, "*")
	switch {
	case stars == 2 && strings.HasPrefix(lower, "*") && strings.HasSuffix(lower, "*"):
		return pathPattern{kind: kindContains, lit: lower[1 : len(lower)-1]}, nil
	case stars == 1 && strings.HasPrefix(lower, "*"):
		return pathPattern{kind: kindSuffix, lit: lower[1:]}, nil
	case stars == 1 && strings.HasSuffix(lower, "*") && !strings.ContainsAny(lower, "?[\\"):
		return pathPattern{kind: kindPrefix, lit: lower[:len(lower)-1]}, nil
	case strings.ContainsAny(lower, "*?[\\"):
		return pathPattern{kind: kindGlob, lit: lower}, nil
	}
	return pathPattern{kind: kindExact, lit: lower}, nil
}

func compileSegments(p string) (pathPattern, error) {
	if p[0] != '/' {
		return pathPattern{}, fmt.Errorf("path %q: a pattern with {placeholders} must start with /", p)
	}
	parts := strings.Split(p[1:], "/")
	pat := pathPattern{kind: kindSegments}
	params := 0
	for i, part := range parts {
		switch {
		case part == "*":
			pat.segs = append(pat.segs, segment{star: true})
		case strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}"):
			name := part[1 : len(part)-1]
			if err := validateName(name); err != nil {
				return pathPattern{}, fmt.Errorf("path %q: placeholder %w", p, err)
			}
			for _, s := range pat.segs {
				if s.param == name {
					return pathPattern{}, fmt.Errorf("path %q: placeholder {%s} used twice", p, name)
				}
			}
			if params++; params > maxParams {
				return pathPattern{}, fmt.Errorf("path %q: at most %d placeholders", p, maxParams)
			}
			pat.segs = append(pat.segs, segment{param: name})
		case strings.ContainsAny(part, "{}*?[\\"):
			return pathPattern{}, fmt.Errorf("path %q: segment %q: a placeholder must be a whole segment, and wildcards may not mix with placeholders except as a whole segment", p, part)
		case part == "" && i != len(parts)-1:
			return pathPattern{}, fmt.Errorf("path %q: empty segment", p)
		default:
			pat.segs = append(pat.segs, segment{lit: strings.ToLower(part)})
		}
	}
	return pat, nil
}

// params reports the placeholder names of the pattern, in order.
func (pp *pathPattern) params() []string {
	var out []string
	for _, s := range pp.segs {
		if s.param != "" {
			out = append(out, s.param)
		}
	}
	return out
}

// match reports whether the cleaned request path p (and its lower-cased
// form lower) matches, capturing placeholders into ps.
func (pp *pathPattern) match(p, lower string, ps *Params) bool {
	// A segment pattern tried earlier may have captured values before it
	// failed; they must not leak into the rule that matches.
	ps.n = 0
	switch pp.kind {
	case kindAny:
		return true
	case kindExact:
		return lower == pp.lit
	case kindPrefix:
		return strings.HasPrefix(lower, pp.lit)
	case kindSuffix:
		return strings.HasSuffix(lower, pp.lit)
	case kindContains:
		return strings.Contains(lower, pp.lit)
	case kindGlob:
		ok, _ := path.Match(pp.lit, lower)
		return ok
	}
	return pp.matchSegments(p, ps)
}

func (pp *pathPattern) matchSegments(p string, ps *Params) bool {
	ps.n = 0
	if p == "" || p[0] != '/' {
		return false
	}
	rest := p[1:]
	for i, s := range pp.segs {
		last := i == len(pp.segs)-1
		if s.star && last {
			return true
		}
		seg, tail, more := strings.Cut(rest, "/")
		switch {
		case s.param != "":
			if seg == "" {
				return false
			}
			ps.names[ps.n], ps.values[ps.n] = s.param, seg
			ps.n++
		case s.star:
			if seg == "" {
				return false
			}
		case !lowerEqual(seg, s.lit):
			return false
		}
		if last {
			return !more
		}
		if !more {
			// The path ended; only a final "*" may match nothing more.
			return i+2 == len(pp.segs) && pp.segs[i+1].star
		}
		rest = tail
	}
	return false
}

// lowerEqual reports whether seg, lower-cased as Caddy's path matcher
// does (strings.ToLower), equals lit, which is already lower-case. Unicode
// case folding (strings.EqualFold) would match more than Caddy does: it
// folds "ſ" (long s) to "s", so /api/projectſ/x would take a rule written
// for /api/projects/x while every other pattern kind would not. ASCII
// needs no allocation.
func lowerEqual(seg, lit string) bool {
	if len(seg) != len(lit) {
		for i := 0; i < len(seg); i++ {
			if seg[i] >= utf8.RuneSelf {
				return strings.ToLower(seg) == lit
			}
		}
		return false
	}
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		if c >= utf8.RuneSelf {
			return strings.ToLower(seg) == lit
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lit[i] {
			return false
		}
	}
	return true
}

// Params are the placeholder values captured by a matched rule.
type Params struct {
	n      int
	names  [maxParams]string
	values [maxParams]string
}

// Get returns the value captured for placeholder name.
func (ps *Params) Get(name string) (string, bool) {
	for i := 0; i < ps.n; i++ {
		if ps.names[i] == name {
			return ps.values[i], true
		}
	}
	return "", false
}

// CleanPath resolves dot segments and merges slashes like Caddy's path
// matcher, keeping a trailing slash; a path that is already clean is
// returned without allocating.
func CleanPath(p string) string {
	if isClean(p) {
		return p
	}
	c := path.Clean(p)
	if c != "/" && strings.HasSuffix(p, "/") {
		c += "/"
	}
	return c
}

func isClean(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	for i := 1; i < len(p); i++ {
		if p[i] == '/' && p[i-1] == '/' {
			return false
		}
		if p[i] == '.' && p[i-1] == '/' {
			end := i + 1
			if end < len(p) && p[end] == '.' {
				end++
			}
			if end == len(p) || p[end] == '/' {
				return false
			}
		}
	}
	return true
}
