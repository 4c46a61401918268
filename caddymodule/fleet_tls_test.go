package caddymodule

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
)

// TestFleetOverTLSWithAuth: `store etcd { tls { ca cert key } username
// password }` against a real etcd member that requires client
// certificates and has authentication on. With the right files and
// password an edge opens and writes; without the client certificate, or
// with the wrong password, opening fails.
func TestFleetOverTLSWithAuth(t *testing.T) {
	dir := t.TempDir()
	ca, caKey := testCA(t)
	writePEM(t, filepath.Join(dir, "ca.pem"), "CERTIFICATE", ca.Raw)
	issue(t, dir, "server", ca, caKey, x509.ExtKeyUsageServerAuth)
	issue(t, dir, "client", ca, caKey, x509.ExtKeyUsageClientAuth)
	endpoint := startTLSEtcd(t, dir)

	tlsFiles := &config.EtcdTLS{CA: filepath.Join(dir, "ca.pem"), Cert: filepath.Join(dir, "client.pem"), Key: filepath.Join(dir, "client-key.pem")}
	opts := func(tf *config.EtcdTLS, password string) *authstore.FleetOptions {
		t.Helper()
		t.Setenv("TEST_ETCD_PASSWORD", password)
		o, err := FleetOptions(&config.Etcd{Endpoints: []string{endpoint}, TLS: tf, Username: "gatehouse", Password: "{env.TEST_ETCD_PASSWORD}", EdgeID: "tls-edge"})
		if err != nil {
			t.Fatal(err)
		}
		o.WriteTimeout, o.DialTimeout, o.Logger = 2*time.Second, 2*time.Second, zap.NewNop()
		return o
	}
	open := func(o *authstore.FleetOptions) (*authstore.Store, error) {
		return authstore.Open(filepath.Join(t.TempDir(), "mirror.db"), authstore.Options{Fleet: o})
	}

	s, err := open(opts(tlsFiles, "etcd password 1"))
	if err != nil {
		t.Fatalf("open over TLS with the password: %v", err)
	}
	if _, err := s.CreateUser(authstore.NewUser{Login: "alice", Tier: "free"}, authstore.AdminActor); err != nil {
		t.Fatalf("a write over TLS: %v", err)
	}
	if u, err := s.UserByLogin("alice"); err != nil || u.Login != "alice" {
		t.Errorf("read back: %v", err)
	}
	s.Close()

	if s, err := open(opts(&config.EtcdTLS{CA: tlsFiles.CA}, "etcd password 1")); err == nil {
		s.Close()
		t.Error("opened without a client certificate")
	}
	if s, err := open(opts(tlsFiles, "wrong password")); err == nil {
		s.Close()
		t.Error("opened with the wrong password")
	}
}

// startTLSEtcd starts one embedded etcd member that requires client
// certificates signed by dir/ca.pem, with user gatehouse (password "etcd
// password 1", role root) and authentication on; it returns the client
// URL.
func startTLSEtcd(t *testing.T, dir string) string {
	t.Helper()
	free := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().String()
	}
	cu, _ := url.Parse("https://" + free())
	pu, _ := url.Parse("http://" + free())
	cfg := embed.NewConfig()
	cfg.Name, cfg.Dir = "tls", filepath.Join(dir, "etcd")
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*cu}, []url.URL{*cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
	cfg.InitialCluster = "tls=" + pu.String()
	cfg.ClientTLSInfo.CertFile = filepath.Join(dir, "server.pem")
	cfg.ClientTLSInfo.KeyFile = filepath.Join(dir, "server-key.pem")
	cfg.ClientTLSInfo.TrustedCAFile = filepath.Join(dir, "ca.pem")
	cfg.ClientTLSInfo.ClientCertAuth = true
	cfg.TickMs, cfg.ElectionMs = 10, 100
	cfg.UnsafeNoFsync = true
	cfg.LogLevel = "error"
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		t.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "client.pem"), filepath.Join(dir, "client-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pemCA, _ := os.ReadFile(filepath.Join(dir, "ca.pem"))
	pool.AppendCertsFromPEM(pemCA)
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{cu.String()}, DialTimeout: 5 * time.Second, Logger: zap.NewNop(),
		TLS: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}}})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, step := range []func() error{
		func() error { _, err := cli.UserAdd(ctx, "root", "root password 1"); return err },
		func() error { _, err := cli.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := cli.UserAdd(ctx, "gatehouse", "etcd password 1"); return err },
		func() error { _, err := cli.UserGrantRole(ctx, "gatehouse", "root"); return err },
		func() error { _, err := cli.AuthEnable(ctx); return err },
	} {
		if err := step(); err != nil {
			t.Fatalf("setting up etcd auth: %v", err)
		}
	}
	return cu.String()
}

func testCA(t *testing.T) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "gatehouse test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return ca, key
}

// issue writes dir/<name>.pem and dir/<name>-key.pem: a certificate for
// 127.0.0.1 signed by ca for usage.
func issue(t *testing.T, dir, name string, ca *x509.Certificate, caKey *ecdsa.PrivateKey, usage x509.ExtKeyUsage) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(dir, name+".pem"), "CERTIFICATE", der)
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(dir, name+"-key.pem"), "EC PRIVATE KEY", kder)
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
