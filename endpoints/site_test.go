package endpoints

import (
	"net"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/gate"
	"github.com/gatehouse/gatehouse/service"
)

// testFacts reads a request as a server with no proxy in front would.
type testFacts struct{}

func (testFacts) ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
func (testFacts) IsHTTPS(r *http.Request) bool { return r.TLS != nil }
func (f testFacts) ExternalBase(r *http.Request) string {
	if f.IsHTTPS(r) {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

// testSite is a Site over a fresh store, without a host, with the
// store and the service it works on.
type testSite struct {
	*Site
	store *authstore.Store
}

// newTestSite builds a Site over a fresh store with the policy g and
// the endpoint paths moved as paths says.
func newTestSite(tb testing.TB, g config.Global, paths map[string]string) *testSite {
	tb.Helper()
	policy, err := service.CompilePolicy(g)
	if err != nil {
		tb.Fatal(err)
	}
	store, err := authstore.Open(filepath.Join(tb.TempDir(), "gatehouse.db"), authstore.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	svc := &service.Service{Store: store, Policy: policy, Logins: service.NewBackoff(), Devices: service.NewBackoff(),
		Offer: new(service.SetupOffer)}
	g8 := gate.New(gate.Config{Policy: policy, Store: store, Facts: testFacts{}})
	site, err := New(Config{Paths: paths, Policy: policy, Gate: g8, Facts: testFacts{}, Service: func() *service.Service { return svc }})
	if err != nil {
		tb.Fatal(err)
	}
	return &testSite{Site: site, store: store}
}

// defaultTestSite is the site most tests use.
func defaultTestSite(tb testing.TB) *testSite {
	return newTestSite(tb, config.Global{TokenPrefix: "qat_", Scopes: []string{"wiki:read", "papers:read", "papers:write"}}, nil)
}
