package integration

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/client"
	"github.com/gatehouse/gatehouse/internal/clock"
)

// These tests run the real `gatehouse` binary against the real Caddy for
// CLI sessions: password and TOTP logins, transparent refresh, many
// processes refreshing one session, invalidation, several accounts, the
// keychain and --insecure.

// sessionCLIGlobal makes access tokens short, so that a test moves the
// server's clock past one.
const sessionCLIGlobal = "\naccess_ttl 1m"

// newSessionCLIGateway is newCLIGateway with short access tokens and bob
// beside alice.
func newSessionCLIGateway(t *testing.T, extra string) *gateway {
	t.Helper()
	g := newGateway(t, setup{global: defaultGlobal + "\ndevice_interval 1s" + sessionCLIGlobal, site: "endpoints\n" + defaultSite, extra: extra})
	g.dumpLogOnFailure()
	g.addUserWithPassword("alice", cliPassword)
	g.addUserWithPassword("bob", cliPassword)
	return g
}

// passwordLogin logs user in with the password piped to the binary.
func (h *cliHome) passwordLogin(user string, extra ...string) cliResult {
	h.t.Helper()
	return h.mustRun(strings.NewReader(cliPassword+"\n"), append([]string{"auth", "login", "-s", cliHost(), "-u", user, "--password-stdin"}, extra...)...)
}

// refreshRequests counts the requests to /api/refresh in Caddy's access
// log: each one reached the server.
func (g *gateway) refreshRequests() int {
	time.Sleep(50 * time.Millisecond) // let the file writer catch up
	n := 0
	for _, line := range g.logLines() {
		var entry struct {
			Msg     string `json:"msg"`
			Request struct {
				URI string `json:"uri"`
			} `json:"request"`
		}
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "handled request" && entry.Request.URI == api.PathRefresh {
			n++
		}
	}
	return n
}

// rotations is how many refresh-token rotations the store has committed
// (the store's transaction metric).
func (g *gateway) rotations() float64 {
	return g.metric(`gatehouse_store_seconds_count{op="rotate_refresh"}`)
}

// TestCLIPasswordLogin: `auth login --password-stdin` stores a session
// whose access token works through the gateway; a wrong password stores
// nothing; the password never reaches the output or the log.
func TestCLIPasswordLogin(t *testing.T) {
	g := newSessionCLIGateway(t, "")
	h := newCLIHome(t)
	host := cliHost()

	res := h.run(strings.NewReader("not the password\n"), "auth", "login", "-s", host, "-u", "alice", "--password-stdin")
	if res.code != 1 || !strings.Contains(res.stderr, "login to "+host+" refused") {
		t.Errorf("wrong password:\n%v", res)
	}
	if _, err := os.Stat(h.hostsPath()); err == nil && len(h.hostsFile().Hosts) != 0 {
		t.Error("a refused login stored something")
	}
	res = h.passwordLogin("alice")
	for _, want := range []string{"✓ Logged in to " + host + " as alice", "session: ", "stored:  hosts.yml"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("login lacks %q:\n%v", want, res)
		}
	}
	entry := h.hostsFile().Host(h.key())
	if !entry.IsSession() || entry.RefreshToken == "" || entry.User != "alice" || entry.Storage != client.StorageFile {
		t.Fatalf("stored %v kind %q storage %q", entry, entry.Kind, entry.Storage)
	}
	h.assertModes()
	res = h.mustRun(nil, "api", "/api/whoami")
	if !strings.Contains(res.stdout, `"credential":"session"`) || !strings.Contains(res.stdout, `"login":"alice"`) {
		t.Errorf("api whoami with the session:\n%v", res)
	}
	tok := h.mustRun(nil, "auth", "token")
	if strings.TrimSpace(tok.stdout) != entry.Token || tok.stderr != "" {
		t.Errorf("auth token printed something else:\n%v", tok)
	}
	h.assertNeverPrinted(cliPassword, entry.RefreshToken)
	g.assertNotLogged(cliPassword, entry.Token, entry.RefreshToken)
}

// TestCLITOTPLogin: for an account with TOTP, the right password without
// a code makes the CLI say to re-run with --totp (the server answered
// totp_required, counted as a failed login); with the code, it logs in.
func TestCLITOTPLogin(t *testing.T) {
	g := newSessionCLIGateway(t, "")
	stdout, stderr, err := g.caddy("gatehouse", "user", "totp", "enable", "alice")
	if err != nil {
		t.Fatalf("totp enable: %v %s", err, stderr)
	}
	u, err := url.Parse(strings.TrimSpace(stdout))
	if err != nil {
		t.Fatal(err)
	}
	secret := u.Query().Get("secret")
	h := newCLIHome(t)
	res := h.run(strings.NewReader(cliPassword+"\n"), "auth", "login", "-s", cliHost(), "-u", "alice", "--password-stdin")
	if res.code != 1 || !strings.Contains(res.stderr, "needs the one-time code of alice; run the login again with --totp CODE") {
		t.Fatalf("without the code:\n%v", res)
	}
	if n := countOf(g.auditActions("alice"), "login.failed"); n != 1 {
		t.Errorf("%d login.failed events after totp_required, want 1", n)
	}
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	res = h.passwordLogin("alice", "--totp", code)
	if !strings.Contains(res.stdout, "as alice") {
		t.Errorf("with the code:\n%v", res)
	}
	h.mustRun(nil, "api", "/api/whoami")
}

// TestCLITransparentRefresh: once the access token has expired (the
// server's clock moved past access_ttl), `api` refreshes the session and
// succeeds; then ten processes at once on an expired access token make
// exactly one refresh between them, and all succeed; and the same again
// after the grace window of that rotation has passed, where a second
// refresh of the same token would have revoked the whole session.
func TestCLITransparentRefresh(t *testing.T) {
	t.Cleanup(clock.Stop(time.Now()))
	g := newSessionCLIGateway(t, "")
	h := newCLIHome(t)
	h.passwordLogin("alice")
	first := h.hostsFile().Host(h.key()).Credential()
	h.mustRun(nil, "api", "/api/whoami")

	r0, q0 := g.rotations(), g.refreshRequests()
	clock.Advance(2 * time.Minute)
	res := h.mustRun(nil, "api", "/api/whoami")
	if !strings.Contains(res.stdout, `"login":"alice"`) {
		t.Errorf("api after expiry:\n%v", res)
	}
	if got := g.rotations() - r0; got != 1 {
		t.Errorf("%v rotations for one expired call, want 1", got)
	}
	now := h.hostsFile().Host(h.key())
	if now.Token == first.Token || now.RefreshToken == first.RefreshToken || now.SessionID != first.SessionID {
		t.Errorf("the refreshed session was not stored")
	}

	for round, wait := range []time.Duration{2 * time.Minute, 2 * time.Minute} {
		// Past the access token, and (wait > grace) past the grace window
		// of the last rotation.
		clock.Advance(wait)
		r1, q1 := g.rotations(), g.refreshRequests()
		var wg sync.WaitGroup
		results := make([]cliResult, 10)
		for i := range results {
			wg.Go(func() { results[i] = h.run(nil, "api", "/api/whoami") })
		}
		wg.Wait()
		for i, r := range results {
			if r.code != 0 || !strings.Contains(r.stdout, `"login":"alice"`) {
				t.Errorf("round %d, process %d:\n%v", round+1, i, r)
			}
		}
		if got := g.rotations() - r1; got != 1 {
			t.Errorf("round %d: %v rotations in the store, want exactly 1", round+1, got)
		}
		if got := g.refreshRequests() - q1; got != 1 {
			t.Errorf("round %d: %d requests reached /api/refresh, want exactly 1", round+1, got)
		}
	}
	if got := g.refreshRequests() - q0; got != 3 {
		t.Errorf("%d refresh requests in all, want 3", got)
	}
	stdout, stderr, err := g.caddy("gatehouse", "session", "list", "--user", "alice", "--json")
	if err != nil {
		t.Fatalf("session list: %v %s", err, stderr)
	}
	var sessions []api.SessionInfo
	if err := json.Unmarshal([]byte(stdout), &sessions); err != nil || len(sessions) != 1 || sessions[0].Status != "active" {
		t.Errorf("the session after all the refreshes: %v %s", err, stdout)
	}
}

// TestCLIInvalidatedAfterRevoke: once the operator revokes the session,
// the next call fails and says to log in again, the account is
// invalidated in hosts.yml, and status says so without asking the
// server; logout still forgets it.
func TestCLIInvalidatedAfterRevoke(t *testing.T) {
	g := newSessionCLIGateway(t, "")
	h := newCLIHome(t)
	h.passwordLogin("alice")
	sid := h.hostsFile().Host(h.key()).SessionID
	if _, stderr, err := g.caddy("gatehouse", "session", "revoke", sid); err != nil {
		t.Fatalf("session revoke: %v %s", err, stderr)
	}
	fix := "gatehouse auth login -s " + cliHost()
	res := h.run(nil, "api", "/api/whoami")
	if res.code != 1 || !strings.Contains(res.stderr, "revoked") || !strings.Contains(res.stderr, fix) {
		t.Errorf("api after revoke:\n%v", res)
	}
	if st := h.hostsFile().Host(h.key()).State; st != client.StateInvalidated {
		t.Errorf("state %q, want invalidated", st)
	}
	res = h.run(nil, "api", "/api/whoami")
	if res.code != 1 || !strings.Contains(res.stderr, "invalidated") || !strings.Contains(res.stderr, fix) {
		t.Errorf("api when invalidated:\n%v", res)
	}
	res = h.run(nil, "auth", "status")
	if res.code != 1 || !strings.Contains(res.stdout, "invalidated; run: "+fix) {
		t.Errorf("status when invalidated:\n%v", res)
	}
	res = h.mustRun(nil, "auth", "logout")
	if !strings.Contains(res.stdout, "✓ Logged out of "+cliHost()) {
		t.Errorf("logout when invalidated:\n%v", res)
	}
}

// TestCLISeveralAccounts: logging in as bob keeps alice; switch picks the
// active one; status lists both; logout -u removes one.
func TestCLISeveralAccounts(t *testing.T) {
	newSessionCLIGateway(t, "")
	h := newCLIHome(t)
	h.passwordLogin("alice")
	res := h.passwordLogin("bob")
	if !strings.Contains(res.stdout, "other accounts on "+cliHost()+": alice") {
		t.Errorf("second login:\n%v", res)
	}
	whoami := func(args ...string) string {
		res := h.mustRun(nil, append([]string{"api"}, append(args, "/api/whoami")...)...)
		var w api.Whoami
		if err := json.Unmarshal([]byte(res.stdout), &w); err != nil {
			t.Fatalf("whoami: %v %s", err, res.stdout)
		}
		return w.Login
	}
	if got := whoami(); got != "bob" {
		t.Errorf("active account %s, want bob", got)
	}
	if got := whoami("-u", "alice"); got != "alice" {
		t.Errorf("-u alice called as %s", got)
	}
	h.mustRun(nil, "auth", "switch", "-u", "alice")
	if got := whoami(); got != "alice" {
		t.Errorf("after switch: %s", got)
	}
	res = h.mustRun(nil, "auth", "status")
	if !strings.Contains(res.stdout, "alice (active)") || !strings.Contains(res.stdout, "bob") || strings.Count(res.stdout, "logged in") != 2 {
		t.Errorf("status:\n%v", res)
	}
	h.mustRun(nil, "auth", "logout", "-u", "bob")
	if names := h.hostsFile().Host(h.key()).AccountNames(); len(names) != 1 || names[0] != "alice" {
		t.Errorf("after logout -u bob: %v", names)
	}
	if got := whoami(); got != "alice" {
		t.Errorf("after logout of bob: %s", got)
	}
}

// TestCLIDeviceSession: `auth login --session` runs the device flow and
// stores a session, not a PAT, which refreshes like a password login's.
func TestCLIDeviceSession(t *testing.T) {
	t.Cleanup(clock.Stop(time.Now()))
	g := newSessionCLIGateway(t, "")
	h := newCLIHome(t)
	run := h.startLogin("auth", "login", "-s", cliHost(), "--no-browser", "--session")
	p := run.prompt()
	if resp, body := newFormBrowser(t).decideDevice(p, "alice", "approve", nil); resp.StatusCode != 200 {
		t.Fatalf("approving: %d %s", resp.StatusCode, body)
	}
	res := run.wait()
	if res.code != 0 || !strings.Contains(res.stdout, "session: ") {
		t.Fatalf("device --session:\n%v", res)
	}
	entry := h.hostsFile().Host(h.key())
	if !entry.IsSession() || entry.RefreshToken == "" || entry.User != "alice" {
		t.Fatalf("stored kind %q user %q", entry.Kind, entry.User)
	}
	if out, _, _ := g.caddy("gatehouse", "token", "list", "--user", "alice"); strings.Contains(out, "tok_") {
		t.Errorf("a PAT was minted for a session login:\n%s", out)
	}
	r0 := g.rotations()
	clock.Advance(2 * time.Minute)
	h.mustRun(nil, "api", "/api/whoami")
	if got := g.rotations() - r0; got != 1 {
		t.Errorf("%v rotations, want 1", got)
	}
}

// TestCLIAnonymousCall: with nothing stored, `api -s HOST` calls
// anonymously: an anonymous route answers, another says how to log in.
func TestCLIAnonymousCall(t *testing.T) {
	newSessionCLIGateway(t, "")
	h := newCLIHome(t)
	res := h.mustRun(nil, "api", "-s", cliHost(), "/api/wiki/home")
	if !strings.Contains(res.stdout, `"path":"/api/wiki/home"`) {
		t.Errorf("anonymous route:\n%v", res)
	}
	res = h.run(nil, "api", "-s", cliHost(), "/api/papers/1")
	if res.code != 1 || !strings.Contains(res.stderr, "wants a token and none was sent; run: gatehouse auth login -s "+cliHost()) {
		t.Errorf("a route that wants a credential:\n%v", res)
	}
}

// TestCLIInsecure: against a TLS site with a self-signed certificate, a
// login fails on the certificate; --ca-file with that certificate
// verifies it; --insecure trusts it without verifying, is remembered for
// the server and warned about on every use. (The in-process harness runs
// Caddy with `auto_https off`, under which a `tls internal` site gets no
// certificate, so this site has a certificate file of its own; the `tls
// internal` case is TestCLIInsecureTLSInternal, on a caddy process of its
// own.)
func TestCLIInsecure(t *testing.T) {
	certFile, keyFile := selfSignedCert(t)
	newSessionCLIGateway(t, fmt.Sprintf(`
https://localhost:%d {
	tls %s %s
	gatehouse {
		endpoints
		default authenticated
	}
	reverse_proxy {upstream}
}
`, httpsPort, certFile, keyFile))
	server := fmt.Sprintf("https://localhost:%d", httpsPort)
	key, _ := client.NormalizeHost(server)
	login := func(h *cliHome, extra ...string) cliResult {
		return h.run(strings.NewReader(cliPassword+"\n"), append([]string{"auth", "login", "-s", server, "-u", "alice", "--password-stdin"}, extra...)...)
	}

	h := newCLIHome(t)
	res := login(h)
	if res.code != 1 || !strings.Contains(res.stderr, "TLS connection to") {
		t.Fatalf("without --insecure:\n%v", res)
	}

	// --ca-file: verified, no warning, remembered.
	ca := newCLIHome(t)
	if res := login(ca, "--ca-file", certFile); res.code != 0 || strings.Contains(res.stderr, "not verified") {
		t.Fatalf("--ca-file:\n%v", res)
	}
	if res := ca.mustRun(nil, "api", "-s", server, "/api/whoami"); !strings.Contains(res.stdout, `"login":"alice"`) {
		t.Errorf("api with the CA file:\n%v", res)
	}

	res = login(h, "--insecure")
	if res.code != 0 || !strings.Contains(res.stderr, "not verified (--insecure)") {
		t.Fatalf("login with --insecure:\n%v", res)
	}
	if !h.hostsFile().Host(key).Insecure {
		t.Error("--insecure was not remembered")
	}
	res = h.mustRun(nil, "api", "-s", server, "/api/whoami")
	if !strings.Contains(res.stdout, `"login":"alice"`) || !strings.Contains(res.stderr, "not verified (--insecure)") {
		t.Errorf("api on the insecure host:\n%v", res)
	}
}

// key is the hosts.yml key of the main site.
func (h *cliHome) key() string {
	k, err := client.NormalizeHost(cliHost())
	if err != nil {
		h.t.Fatal(err)
	}
	return k
}
