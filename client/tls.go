package client

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"time"
)

// maxCAFile bounds a --ca-file.
const maxCAFile = 1 << 20

// Transport returns the HTTP transport for a server's settings
// (Host.Insecure, Host.CAFile), or nil for the default one: Insecure
// trusts any certificate (a self-signed edge; the caller warns), CAFile
// adds the PEM certificates in that file to the system's roots.
func Transport(h *Host) (*http.Transport, error) {
	if h == nil || (!h.Insecure && h.CAFile == "") {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if h.CAFile != "" {
		pool, err := LoadCAFile(h.CAFile)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	if h.Insecure {
		cfg.InsecureSkipVerify = true //nolint:gosec // asked for with --insecure, warned about on every use
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = cfg
	return t, nil
}

// LoadCAFile reads a PEM file of certificate authorities into the
// system's pool (or a new one where the system has none).
func LoadCAFile(path string) (*x509.CertPool, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading the CA file: %w", err)
	}
	if fi.Size() > maxCAFile {
		return nil, fmt.Errorf("the CA file %s is larger than %d KiB", path, maxCAFile>>10)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the CA file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("the CA file %s holds no PEM certificate", path)
	}
	return pool, nil
}

// HTTPClient returns an HTTP client with timeout for a server's settings.
func HTTPClient(h *Host, timeout time.Duration) (*http.Client, error) {
	t, err := Transport(h)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Timeout: timeout}
	if t != nil {
		hc.Transport = t
	}
	return hc, nil
}
