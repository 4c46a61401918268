package client

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// NetworkError is a request that got no HTTP answer: DNS, connection,
// timeout or TLS failure. Its message names the host.
type NetworkError struct {
	// Host is the normalised server.
	Host string
	// Err is the underlying error.
	Err error
}

// Error implements error.
func (e *NetworkError) Error() string {
	h := DisplayHost(e.Host)
	inner := e.Err
	if ue, ok := errors.AsType[*url.Error](inner); ok {
		inner = ue.Err
	}
	if e.notTLS() {
		_, hostport, _ := strings.Cut(e.Host, "://")
		return fmt.Sprintf("TLS connection to %s failed: it does not speak TLS there; if it serves plain http, use -s http://%s", h, hostport)
	}
	if e.TLS() {
		return fmt.Sprintf("TLS connection to %s failed: %v", h, inner)
	}
	if e.Timeout() {
		return fmt.Sprintf("request to %s timed out: %v", h, inner)
	}
	return fmt.Sprintf("cannot reach %s: %v", h, inner)
}

// Unwrap returns Err.
func (e *NetworkError) Unwrap() error { return e.Err }

// Timeout reports whether the request timed out.
func (e *NetworkError) Timeout() bool {
	ne, ok := errors.AsType[net.Error](e.Err)
	return ok && ne.Timeout()
}

// TLS reports whether the failure is in TLS: a certificate the client does
// not trust, a name mismatch, or a server that does not speak TLS.
func (e *NetworkError) TLS() bool {
	if _, ok := errors.AsType[*tls.CertificateVerificationError](e.Err); ok {
		return true
	}
	if _, ok := errors.AsType[x509.UnknownAuthorityError](e.Err); ok {
		return true
	}
	if _, ok := errors.AsType[x509.HostnameError](e.Err); ok {
		return true
	}
	if _, ok := errors.AsType[x509.CertificateInvalidError](e.Err); ok {
		return true
	}
	if _, ok := errors.AsType[tls.AlertError](e.Err); ok {
		return true
	}
	return e.notTLS()
}

// notTLS reports whether an https request reached a server that answered
// in plain text. net/http replaces tls.RecordHeaderError by an error of
// its own when the answer looks like HTTP, hence the string match.
func (e *NetworkError) notTLS() bool {
	if _, ok := errors.AsType[tls.RecordHeaderError](e.Err); ok {
		return true
	}
	return e.Err != nil && strings.Contains(e.Err.Error(), "server gave HTTP response to HTTPS client")
}
