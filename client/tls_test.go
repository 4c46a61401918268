package client

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTransport: no settings is the default transport; --insecure skips
// verification; a CA file must hold a PEM certificate, and a missing or
// bad one is an error that names it.
func TestTransport(t *testing.T) {
	t.Parallel()
	if tr, err := Transport(&Host{}); tr != nil || err != nil {
		t.Errorf("no settings: %v %v", tr, err)
	}
	tr, err := Transport(&Host{Insecure: true})
	if err != nil || tr == nil || !tr.TLSClientConfig.InsecureSkipVerify {
		t.Errorf("insecure: %v", err)
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pem")
	if err := os.WriteFile(bad, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{bad, filepath.Join(dir, "missing.pem")} {
		if _, err := Transport(&Host{CAFile: path}); err == nil || !strings.Contains(err.Error(), "CA file") {
			t.Errorf("%s: %v", path, err)
		}
	}
}
