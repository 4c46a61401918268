package client

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// ErrInvalidHost is wrapped by every error of [NormalizeHost].
var ErrInvalidHost = errors.New("invalid host")

// NormalizeHost turns a server as a user types it (`example.com`,
// `example.com:8443`, `localhost:8080`, `[::1]:2015`,
// `https://example.com/`) into its origin, `scheme://host[:port]`, which is
// the key of the server in hosts.yml.
//
// Without a scheme, https is assumed, except for loopback hosts (localhost,
// 127.0.0.0/8 and ::1), which get http. The host is lower-cased, and the
// scheme's default port is dropped. A path other than "/", a query, a
// fragment or user information is refused: the server is an origin, and a
// token must never be sent to a different one.
func NormalizeHost(s string) (string, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return "", fmt.Errorf("%w: empty", ErrInvalidHost)
	}
	if strings.ContainsFunc(in, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return "", fmt.Errorf("%w %q: contains spaces or control characters", ErrInvalidHost, s)
	}
	explicit := strings.Contains(in, "://")
	raw := in
	if !explicit {
		// A bare IPv6 address ("::1") has no brackets to separate the port.
		if addr, err := netip.ParseAddr(in); err == nil && addr.Is6() {
			raw = "[" + in + "]"
		}
		raw = "//" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%w %q: %w", ErrInvalidHost, s, err)
	}
	switch {
	case u.User != nil:
		return "", fmt.Errorf("%w %q: user information is not allowed", ErrInvalidHost, s)
	case u.Path != "" && u.Path != "/", u.RawQuery != "", u.Fragment != "", u.Opaque != "":
		return "", fmt.Errorf("%w %q: give only the server, without a path or query", ErrInvalidHost, s)
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return "", fmt.Errorf("%w %q: no host name", ErrInvalidHost, s)
	}
	if err := checkHostname(host); err != nil {
		return "", fmt.Errorf("%w %q: %w", ErrInvalidHost, s, err)
	}
	port := u.Port()
	if port == "" && strings.HasSuffix(u.Host, ":") {
		return "", fmt.Errorf("%w %q: empty port", ErrInvalidHost, s)
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("%w %q: port %q is not a number from 1 to 65535", ErrInvalidHost, s, port)
		}
		port = strconv.Itoa(n)
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case !explicit && isLoopback(host):
		scheme = "http"
	case !explicit:
		scheme = "https"
	case scheme != "http" && scheme != "https":
		return "", fmt.Errorf("%w %q: scheme must be http or https", ErrInvalidHost, s)
	}
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	hostport := host
	if strings.Contains(host, ":") {
		hostport = "[" + host + "]"
	}
	if port != "" {
		hostport = net.JoinHostPort(host, port)
	}
	return scheme + "://" + hostport, nil
}

// DisplayHost is the short form of a normalised host for messages: the
// scheme is left out where [NormalizeHost] would add it back
// (`https://example.com` → `example.com`, `http://localhost:8080` →
// `localhost:8080`), so the text can be pasted after `-s`.
func DisplayHost(key string) string {
	scheme, rest, ok := strings.Cut(key, "://")
	if !ok {
		return key
	}
	u, err := url.Parse("//" + rest)
	if err != nil {
		return key
	}
	implied := "https"
	if isLoopback(u.Hostname()) {
		implied = "http"
	}
	if scheme != implied {
		return key
	}
	return rest
}

// IsPlainHTTP reports whether a normalised host is reached over plain http
// to something other than a loopback address, where a token would cross the
// network unencrypted.
func IsPlainHTTP(key string) bool {
	u, err := url.Parse(key)
	if err != nil {
		return false
	}
	return u.Scheme == "http" && !isLoopback(u.Hostname())
}

// checkHostname accepts an IP address or a DNS name in ASCII.
func checkHostname(host string) error {
	if strings.Contains(host, ":") {
		addr, err := netip.ParseAddr(host)
		if err != nil || !addr.Is6() {
			return fmt.Errorf("%q is not an IPv6 address", host)
		}
		return nil
	}
	for _, r := range host {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9', r == '-', r == '.', r == '_':
		case r > 0x7f:
			return fmt.Errorf("%q is not ASCII; use its xn-- form", host)
		default:
			return fmt.Errorf("%q holds %q, which no host name has", host, r)
		}
	}
	return nil
}

// isLoopback reports whether host names this machine: localhost,
// 127.0.0.0/8 or ::1.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Unmap().IsLoopback()
}
