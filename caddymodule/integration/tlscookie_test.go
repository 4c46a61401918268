package integration

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSessionCookieOverTLS checks the cookie a site served over TLS sets:
// the __Host- name, Secure, and that the plain name is not accepted there.
func TestSessionCookieOverTLS(t *testing.T) {
	certFile, keyFile := selfSignedCert(t)
	g := newGateway(t, setup{site: sessionSite, extra: fmt.Sprintf(`
https://localhost:%d {
	tls %s %s
	gatehouse {
		endpoints
		default authenticated
	}
	reverse_proxy {upstream}
}
`, httpsPort, certFile, keyFile)})
	g.dumpLogOnFailure()
	g.addUserWithPassword("alice", "alice password 1")
	base := fmt.Sprintf("https://localhost:%d", httpsPort)
	jar, _ := cookiejar.New(nil)
	client := &http.Client{
		Jar:           jar,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, // our self-signed test certificate
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.PostForm(base+"/login", url.Values{"login": {"alice"}, "password": {"alice password 1"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ck := sessionCookie(resp)
	if resp.StatusCode != http.StatusSeeOther || ck == nil {
		t.Fatalf("login over TLS: %d %q", resp.StatusCode, resp.Header.Get("Set-Cookie"))
	}
	raw := resp.Header.Get("Set-Cookie")
	if ck.Name != "__Host-gatehouse_session" || !ck.Secure || !ck.HttpOnly || ck.Path != "/" || ck.Domain != "" || ck.SameSite != http.SameSiteLaxMode {
		t.Errorf("TLS cookie: %q", raw)
	}
	resp, err = client.Get(base + "/api/whoami")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("whoami over TLS with the cookie: %d", resp.StatusCode)
	}

	// The plain-HTTP cookie name is not honoured over TLS (a plain-HTTP
	// response or a sibling domain could have planted it).
	req, _ := http.NewRequest("GET", base+"/api/whoami", nil)
	req.Header.Set("Cookie", "gatehouse_session="+ck.Value)
	resp, err = (&http.Client{Transport: client.Transport}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `realm="gatehouse"`) {
		t.Errorf("plain cookie name over TLS: %d", resp.StatusCode)
	}
	g.assertNotLogged("alice password 1", ck.Value)
}

// selfSignedCert writes a throwaway certificate for localhost (the
// harness turns automatic HTTPS off, so the TLS site brings its own).
func selfSignedCert(t *testing.T) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}
