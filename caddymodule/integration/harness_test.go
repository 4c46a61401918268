package integration

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddytest"
	"github.com/caddyserver/certmagic"

	_ "github.com/caddyserver/caddy/v2/modules/standard"

	"github.com/gatehouse/gatehouse/api"
	_ "github.com/gatehouse/gatehouse/caddymodule"
	"github.com/gatehouse/gatehouse/internal/testenv"
)

// caddyBin and gatehouseBin are the binaries built once for the whole run
// by TestMain: the server, and the end-user CLI (cmd/gatehouse).
var caddyBin, gatehouseBin string

// TestMain builds the binaries, gives the run a home of its own (the
// in-process Caddy autosaves its config there; the servers and CLIs the
// tests start inherit it), picks the ports, and says at the end how many
// browser tests were skipped.
func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "gatehouse-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		caddyBin = filepath.Join(dir, "caddy")
		build := exec.Command("go", "build", "-o", caddyBin, "github.com/gatehouse/gatehouse/cmd/caddy")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building caddy:", err)
			return 1
		}
		gatehouseBin = filepath.Join(dir, "gatehouse")
		build = exec.Command("go", "build", "-o", gatehouseBin, "github.com/gatehouse/gatehouse/cmd/gatehouse")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building gatehouse:", err)
			return 1
		}

		home, restore, err := testenv.Isolate()
		if err != nil {
			fmt.Fprintln(os.Stderr, "test home:", err)
			return 1
		}
		defer restore()
		// Caddy reads these paths when its package initialises, before
		// TestMain runs; read them again as `caddy run --envfile` does.
		caddy.ConfigAutosavePath = filepath.Join(caddy.AppConfigDir(), "autosave.json")
		caddy.DefaultStorage = &certmagic.FileStorage{Path: caddy.AppDataDir()}
		if err := testenv.Check(home, caddy.ConfigAutosavePath, caddy.DefaultStorage.Path, caddy.AppDataDir()); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}

		if err := pickPorts(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		for _, p := range testPorts {
			if answers(*p.port) {
				fmt.Fprintf(os.Stderr, "port %d already answers: another server or test run uses it (GATEHOUSE_TEST_PORT=%s)\n", *p.port, os.Getenv("GATEHOUSE_TEST_PORT"))
				return 1
			}
		}

		code := m.Run()
		reportBrowserSkips()
		reportKeyringSkips()
		return code
	}()
	os.Exit(code)
}

// inProcess is the first start of this run's in-process Caddy: until then
// nothing may answer on its ports (see requireUnused).
var inProcess struct {
	sync.Once
	busy int // a port that answered before the start, or 0
}

// newTester is caddytest's Tester on this run's admin port.
func newTester(t *testing.T) *caddytest.Tester {
	t.Helper()
	inProcess.Do(func() {
		for _, p := range []int{adminPort, httpPort, httpsPort} {
			if answers(p) {
				inProcess.busy = p
				return
			}
		}
	})
	if inProcess.busy != 0 {
		requireUnused(t, inProcess.busy)
	}
	return caddytest.NewTester(t).WithDefaultOverrides(caddytest.Config{AdminPort: adminPort})
}

// upstream is the backend behind the gateway: it answers with what it
// received, so tests can see exactly what Gatehouse forwarded.
type upstream struct {
	*httptest.Server
	mu   sync.Mutex
	last *http.Request
	// lastTrailer is what arrived after the body of the last request.
	lastTrailer http.Header
	hits        int
}

func newUpstream(t *testing.T) *upstream {
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // to EOF, so the trailers arrive
		u.mu.Lock()
		u.last, u.lastTrailer, u.hits = r.Clone(r.Context()), r.Trailer.Clone(), u.hits+1
		u.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"method": r.Method, "path": r.URL.Path, "headers": r.Header})
	}))
	t.Cleanup(u.Close)
	return u
}

// lastRequest is the most recent request the upstream received.
func (u *upstream) lastRequest() *http.Request {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.last
}

func (u *upstream) hitCount() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.hits
}

// gateway is one test's Gatehouse: in-process Caddy, upstream, store.
type gateway struct {
	t        *testing.T
	tester   *caddytest.Tester
	base     string // the site, http://127.0.0.1:port
	store    string
	logFile  string
	upstream *upstream
}

// setup describes a gateway config.
type setup struct {
	global  string // lines inside the global gatehouse block
	site    string // lines inside the site's gatehouse block
	servers string // lines inside the global servers block (trusted_proxies …)
	store   string // store path; default: a new file in t.TempDir()
	// extra is appended to the Caddyfile (more sites); {upstream} stands
	// for the upstream's host:port.
	extra string
	// directives are more lines of the site block (handle_errors …).
	directives string
}

// defaultGlobal declares the catalog most tests use.
const defaultGlobal = `token_prefix qat_
scopes wiki:read wiki:write papers:read papers:write graph:read
pat_max_days 365`

// defaultSite is the example rule set.
const defaultSite = `rule GET /api/wiki/* anonymous
rule GET /api/papers/* scope papers:read
rule POST,PUT,PATCH,DELETE /api/papers/* scope papers:write
rule * /admin/* deny
default authenticated`

func newGateway(t *testing.T, s setup) *gateway {
	t.Helper()
	if s.global == "" {
		s.global = defaultGlobal
	}
	if s.site == "" {
		s.site = defaultSite
	}
	if s.store == "" {
		s.store = filepath.Join(t.TempDir(), "gatehouse.db")
	}
	g := &gateway{
		t:        t,
		tester:   newTester(t),
		base:     fmt.Sprintf("http://127.0.0.1:%d", httpPort),
		store:    s.store,
		logFile:  filepath.Join(t.TempDir(), "caddy.log"),
		upstream: newUpstream(t),
	}
	g.tester.InitServer(g.caddyfile(s), "caddyfile")
	if t.Failed() {
		t.FailNow()
	}
	return g
}

func (g *gateway) caddyfile(s setup) string {
	return fmt.Sprintf(`{
	admin localhost:%d
	http_port %d
	https_port %d
	grace_period 1ns
	skip_install_trust
	auto_https off
	log {
		output file %s
		format json
		level DEBUG
	}
	servers {
		%s
	}
	gatehouse {
		store %s
		%s
	}
}
http://127.0.0.1:%d {
	log {
		output file %s
		# As the README advises: keep device user codes out of access logs.
		format filter {
			wrap json
			fields {
				request>uri query {
					delete user_code
					delete next
				}
				resp_headers>Location query {
					delete user_code
					delete next
				}
			}
		}
	}
	gatehouse {
		%s
	}
	reverse_proxy %s
	%s
}
`, adminPort, httpPort, httpsPort, g.logFile, s.servers, s.store, s.global, httpPort, g.logFile, s.site, strings.TrimPrefix(g.upstream.URL, "http://"), s.directives) +
		strings.ReplaceAll(s.extra, "{upstream}", strings.TrimPrefix(g.upstream.URL, "http://"))
}

// do sends a request to the gateway. headers are "Name: value" strings.
func (g *gateway) do(method, path string, body io.Reader, headers ...string) (*http.Response, []byte) {
	g.t.Helper()
	req, err := http.NewRequest(method, g.base+path, body)
	if err != nil {
		g.t.Fatal(err)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func (g *gateway) get(path string, headers ...string) (*http.Response, []byte) {
	g.t.Helper()
	return g.do(http.MethodGet, path, nil, headers...)
}

// admin calls the running server's admin API and decodes the answer.
func (g *gateway) admin(method, path string, in, out any) int {
	g.t.Helper()
	var body io.Reader
	if in != nil {
		raw, _ := json.Marshal(in)
		body = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, fmt.Sprintf("http://localhost:%d%s", adminPort, path), body)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatalf("admin %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			g.t.Fatalf("admin %s %s: decoding %q: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode
}

// addUser creates a user through the admin API.
func (g *gateway) addUser(login string, extra ...string) {
	g.t.Helper()
	req := map[string]any{"login": login}
	for i := 0; i+1 < len(extra); i += 2 {
		req[extra[i]] = extra[i+1]
	}
	if code := g.admin("POST", "/gatehouse/users", req, nil); code != http.StatusCreated {
		g.t.Fatalf("creating user %s: HTTP %d", login, code)
	}
}

// mint creates a PAT through the admin API and returns it.
func (g *gateway) mint(login string, days int, scopes ...string) string {
	g.t.Helper()
	tok, _ := g.mintWithID(login, days, scopes...)
	return tok
}

// mintWithID creates a PAT and returns it with its public id.
func (g *gateway) mintWithID(login string, days int, scopes ...string) (string, string) {
	g.t.Helper()
	var resp api.CreateTokenResponse
	code := g.admin("POST", "/gatehouse/tokens", map[string]any{"user": login, "name": "test", "scopes": scopes, "expires_days": days}, &resp)
	if code != http.StatusCreated {
		g.t.Fatalf("minting token for %s: HTTP %d", login, code)
	}
	return resp.Token, resp.Info.ID
}

// caddy runs the built binary (e.g. `gatehouse token list`) against the
// running server, returning stdout and stderr.
func (g *gateway) caddy(args ...string) (string, string, error) {
	g.t.Helper()
	return runCaddy(g.t, append(args, "--address", fmt.Sprintf("localhost:%d", adminPort))...)
}

func runCaddy(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(caddyBin, args...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "XDG_DATA_HOME="+t.TempDir())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// logLines returns every line Caddy logged so far (server and access
// logs), for checks that no secret reaches a log.
func (g *gateway) logLines() []string {
	g.t.Helper()
	f, err := os.Open(g.logFile)
	if err != nil {
		return nil
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

// assertNotLogged fails if any secret appears in any log line.
func (g *gateway) assertNotLogged(secrets ...string) {
	g.t.Helper()
	time.Sleep(50 * time.Millisecond) // let the file writer catch up
	for _, line := range g.logLines() {
		for _, s := range secrets {
			if s != "" && strings.Contains(line, s) {
				g.t.Errorf("a secret reached the log: %s", line)
			}
		}
	}
}
