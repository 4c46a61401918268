package integration

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"testing"
	"time"
)

// Ports of the in-process Caddy (admin, HTTP, HTTPS and the extra sites
// some tests add) and of the servers run from the built binary. TestMain
// picks free ones, so that two runs of this suite on one machine never
// share a server: Caddy listens with SO_REUSEPORT, and a second run on the
// same ports would quietly answer the first one's requests.
var (
	adminPort, httpPort, httpsPort int
	secondCLIPort                  int // the second site of TestGatehouseCLIConcurrentHosts
	placeholdersPort               int // the extra site of TestPlaceholders
	nginxPort                      int // the nginx in front of TestForwardAuthNginx
	forwardAuthPort                int // the Caddy forward_auth site of TestForwardAuthCaddy
	binAdminPort, binHTTPPort      int
	binUpstream                    int
	unusedPort                     int // nothing listens here: "no server running"
)

// testPorts lists every port with its offset from GATEHOUSE_TEST_PORT,
// the optional fixed base for a run that needs known ports.
var testPorts = []struct {
	port   *int
	offset int
}{
	{&adminPort, 0}, {&httpPort, 1}, {&httpsPort, 2}, {&secondCLIPort, 5}, {&placeholdersPort, 6}, {&nginxPort, 7}, {&forwardAuthPort, 8},
	{&binAdminPort, 10}, {&binHTTPPort, 11}, {&binUpstream, 12}, {&unusedPort, 19},
}

// pickPorts sets the test ports: GATEHOUSE_TEST_PORT and the ports after
// it when that is set, else ports the kernel says are free. All are held
// open until every one is chosen, so no two are the same.
func pickPorts() error {
	if base, err := strconv.Atoi(os.Getenv("GATEHOUSE_TEST_PORT")); err == nil && base > 0 {
		for _, p := range testPorts {
			*p.port = base + p.offset
		}
		return nil
	}
	for _, p := range testPorts {
		// All interfaces: Caddy binds a site's port on all of them.
		l, err := net.Listen("tcp", ":0")
		if err != nil {
			return fmt.Errorf("picking a free port: %w", err)
		}
		defer l.Close()
		*p.port = l.Addr().(*net.TCPAddr).Port
	}
	return nil
}

// answers reports whether something accepts connections on port.
func answers(port int) bool {
	c, err := net.DialTimeout("tcp", net.JoinHostPort("localhost", strconv.Itoa(port)), time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// requireUnused fails the test at once when one of ports already answers
// before this suite started a server there. caddytest would otherwise load
// its config into whatever listens on the admin port, and a site port
// shared through SO_REUSEPORT would answer another run's requests.
func requireUnused(t *testing.T, ports ...int) {
	t.Helper()
	for _, p := range ports {
		if answers(p) {
			t.Fatalf("port %d already answers before this suite started a server on it: another server or test run uses it (unset GATEHOUSE_TEST_PORT, or pick another base)", p)
		}
	}
}
