package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/api"
)

// TestGatehouseCLIConcurrentHosts: two logins to two hosts run at the same
// time, in two processes writing one hosts.yml; both entries are kept,
// and each host's commands use its own token.
func TestGatehouseCLIConcurrentHosts(t *testing.T) {
	g := newCLIGateway(t, fmt.Sprintf(`
http://localhost:%d {
	gatehouse {
		endpoints
		default authenticated
	}
	reverse_proxy {upstream}
}
`, secondCLIPort))
	h := newCLIHome(t)
	hosts := []string{cliHost(), fmt.Sprintf("localhost:%d", secondCLIPort)}

	runs := make([]*deviceRun, len(hosts))
	for i, host := range hosts {
		runs[i] = h.startLogin("auth", "login", "-s", host, "--no-browser", "--scopes", "papers:read", "--token-name", host, "--timeout", "60")
	}
	prompts := make([]devicePrompt, len(hosts))
	for i, run := range runs {
		prompts[i] = run.prompt()
		if !strings.HasPrefix(prompts[i].url, "http://"+hosts[i]+"/device?user_code=") {
			t.Errorf("login to %s sends the person to %s", hosts[i], prompts[i].url)
		}
	}
	// Both are approved before either polls again, so both tokens arrive
	// on the same tick and both processes write hosts.yml at once.
	b := newFormBrowser(t)
	for _, p := range prompts {
		if resp, body := b.decideDevice(p, "alice", "approve", nil); resp.StatusCode != 200 {
			t.Fatalf("approving %s: %d %s", p.url, resp.StatusCode, body)
		}
	}
	for i, run := range runs {
		if res := run.wait(); res.code != 0 || !strings.Contains(res.stdout, "✓ Logged in to "+hosts[i]+" as alice") {
			t.Fatalf("%v", res)
		}
	}

	hf := h.hostsFile()
	if len(hf.Hosts) != 2 {
		t.Fatalf("hosts.yml holds %v, want both hosts", hf.SortedHosts())
	}
	tokens := map[string]string{}
	for _, host := range hosts {
		e := hf.Host("http://" + host)
		if e == nil || e.Token == "" || e.TokenName != host {
			t.Fatalf("entry for %s: %+v", host, e)
		}
		tokens[host] = e.Token
	}
	if tokens[hosts[0]] == tokens[hosts[1]] {
		t.Error("both hosts hold the same token")
	}
	h.assertModes()

	res := h.mustRun(nil, "auth", "status")
	for _, host := range hosts {
		if !strings.Contains(res.stdout, "✓ "+host) {
			t.Errorf("status lacks %s:\n%v", host, res)
		}
	}
	// With two hosts and no default, a command must be told which.
	res = h.run(nil, "api", "/api/whoami")
	if res.code != 1 || !strings.Contains(res.stderr, "several servers stored and none chosen") ||
		!strings.Contains(res.stderr, "gatehouse config set server HOST") {
		t.Errorf("api without a server:\n%v", res)
	}
	for _, host := range hosts {
		res := h.mustRun(nil, "api", "-s", host, "/api/whoami")
		w := decodeInto[api.Whoami](t, res.stdout)
		if e := hf.Host("http://" + host); w.TokenID != e.TokenID {
			t.Errorf("api -s %s used token %s, want %s", host, w.TokenID, e.TokenID)
		}
	}
	h.mustRun(nil, "config", "set", "server", hosts[1])
	if res := h.mustRun(nil, "api", "/api/whoami"); decodeInto[api.Whoami](t, res.stdout).TokenID != hf.Host("http://"+hosts[1]).TokenID {
		t.Errorf("the default server was not used:\n%v", res)
	}

	// Logging out of one host keeps the other.
	h.mustRun(nil, "auth", "logout", "-s", hosts[0])
	if hf := h.hostsFile(); len(hf.Hosts) != 1 || hf.Host("http://"+hosts[1]) == nil {
		t.Errorf("after logging out of %s: %v", hosts[0], hf.SortedHosts())
	}
	if resp, _ := g.get("/api/whoami", "Authorization: Bearer "+tokens[hosts[1]]); resp.StatusCode != 200 {
		t.Errorf("the other host's token stopped working: %d", resp.StatusCode)
	}
	h.assertNeverPrinted(tokens[hosts[0]], tokens[hosts[1]])
}

// TestGatehouseCLICorruptHostsFile: a hosts.yml that cannot be read is
// reported with its path and the fix, and is never overwritten, whatever
// the command; a device login stops before showing a code.
func TestGatehouseCLICorruptHostsFile(t *testing.T) {
	g := newCLIGateway(t, "")
	h := newCLIHome(t)
	host := cliHost()
	tok := g.mint("alice", 30, "papers:read")
	if err := os.MkdirAll(filepath.Dir(h.hostsPath()), 0o700); err != nil {
		t.Fatal(err)
	}
	corrupt := "hosts:\n  http://" + host + ":\n    token: [unclosed\n"
	if err := os.WriteFile(h.hostsPath(), []byte(corrupt), 0o600); err != nil {
		t.Fatal(err)
	}

	want := "hosts file " + h.hostsPath() + " cannot be used: not valid YAML"
	fix := "it was left unchanged: fix it by hand, or move it aside and log in again"
	commands := []struct {
		stdin string
		args  []string
	}{
		{tok + "\n", []string{"auth", "login", "-s", host, "--with-token"}},
		{"", []string{"auth", "login", "-s", host, "--no-browser", "--timeout", "5"}},
		{"", []string{"auth", "status"}},
		{"", []string{"auth", "logout", "-s", host}},
		{"", []string{"api", "-s", host, "/api/whoami"}},
		{"", []string{"config", "set", "server", host}},
	}
	for _, c := range commands {
		t.Run(strings.Join(c.args[:2], " "), func(t *testing.T) {
			res := h.run(strings.NewReader(c.stdin), c.args...)
			if res.code != 1 || !strings.Contains(res.stderr, want) || !strings.Contains(res.stderr, fix) {
				t.Errorf("want exit 1 with %q:\n%v", want, res)
			}
			if strings.Contains(res.stderr, "one-time code") {
				t.Errorf("a login that cannot store its token started anyway:\n%v", res)
			}
			if now, _ := os.ReadFile(h.hostsPath()); string(now) != corrupt {
				t.Errorf("hosts.yml was rewritten:\n%s", now)
			}
		})
	}
	if n := g.tokenCount("alice"); n != 1 {
		t.Errorf("the refused logins left %d tokens, want the 1 minted", n)
	}

	// Moved aside as the message says, the next login starts afresh.
	if err := os.Rename(h.hostsPath(), h.hostsPath()+".broken"); err != nil {
		t.Fatal(err)
	}
	h.mustRun(strings.NewReader(tok+"\n"), "auth", "login", "-s", host, "--with-token")
	if e := h.hostsFile().Host("http://" + host); e == nil || e.Token != tok {
		t.Errorf("after moving the file aside: %+v", e)
	}
	h.assertNeverPrinted(tok)
}

// TestGatehouseCLIHostsFileModes: a hosts.yml or directory that other
// users could read is refused with the chmod that fixes it, and left
// alone; after the fix everything works.
func TestGatehouseCLIHostsFileModes(t *testing.T) {
	g := newCLIGateway(t, "")
	h := newCLIHome(t)
	host := cliHost()
	tok := g.mint("alice", 30, "papers:read")
	h.mustRun(strings.NewReader(tok+"\n"), "auth", "login", "-s", host, "--with-token")
	h.assertModes()
	stored, _ := os.ReadFile(h.hostsPath())
	dir := filepath.Dir(h.hostsPath())

	cases := []struct {
		name string
		path string
		mode os.FileMode
		want string
	}{
		{"file readable by others", h.hostsPath(), 0o644, "hosts file " + h.hostsPath() + " has mode 0644, which lets other users reach the tokens in it; fix it with: chmod 600 " + h.hostsPath()},
		{"directory open to the group", dir, 0o750, "directory " + dir + " has mode 0750, which lets other users reach the tokens in it; fix it with: chmod 700 " + dir},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			good := os.FileMode(0o600)
			if tc.path == dir {
				good = 0o700
			}
			if err := os.Chmod(tc.path, tc.mode); err != nil {
				t.Fatal(err)
			}
			defer os.Chmod(tc.path, good)
			for _, args := range [][]string{{"auth", "status"}, {"api", "/api/whoami"}, {"auth", "logout"}} {
				res := h.run(nil, args...)
				if res.code != 1 || !strings.Contains(res.stderr, tc.want) {
					t.Errorf("want exit 1 with %q:\n%v", tc.want, res)
				}
			}
			res := h.run(strings.NewReader(tok+"\n"), "auth", "login", "-s", host, "--with-token")
			if res.code != 1 || !strings.Contains(res.stderr, tc.want) {
				t.Errorf("login into a too open hosts.yml:\n%v", res)
			}
			if fi, _ := os.Stat(tc.path); fi.Mode().Perm() != tc.mode {
				t.Errorf("the mode was changed behind the user's back: %04o", fi.Mode().Perm())
			}
			if now, _ := os.ReadFile(h.hostsPath()); string(now) != string(stored) {
				t.Errorf("hosts.yml changed:\n%s", now)
			}
		})
	}
	if res := h.mustRun(nil, "auth", "status"); !strings.Contains(res.stdout, "✓ "+host) {
		t.Errorf("after the fix:\n%v", res)
	}
	if resp, _ := g.get("/api/whoami", "Authorization: Bearer "+tok); resp.StatusCode != 200 {
		t.Error("a refused command revoked the token")
	}
	h.assertNeverPrinted(tok)
}

// TestGatehouseCLIServerUnreachable: with nothing listening where a token
// was stored, status says offline and shows what is stored, and logout
// forgets the token with a warning that it stays valid on the server.
func TestGatehouseCLIServerUnreachable(t *testing.T) {
	g := newCLIGateway(t, "")
	h := newCLIHome(t)
	tok := g.mint("alice", 30, "papers:read")
	h.mustRun(strings.NewReader(tok+"\n"), "auth", "login", "-s", cliHost(), "--with-token")
	// The same entry, moved to a port where nothing listens.
	gone := fmt.Sprintf("127.0.0.1:%d", unusedPort)
	raw, _ := os.ReadFile(h.hostsPath())
	moved := strings.ReplaceAll(string(raw), "http://"+cliHost(), "http://"+gone)
	if err := os.WriteFile(h.hostsPath(), []byte(moved), 0o600); err != nil {
		t.Fatal(err)
	}

	res := h.run(nil, "auth", "status")
	if res.code != 1 || !strings.Contains(res.stdout, "! "+gone) || !strings.Contains(res.stdout, "offline, not checked (cannot reach "+gone) ||
		!strings.Contains(res.stdout, "stored: valid until") {
		t.Errorf("status of an unreachable host:\n%v", res)
	}
	res = h.run(nil, "api", "/api/whoami")
	if res.code != 1 || !strings.Contains(res.stderr, "cannot reach "+gone) {
		t.Errorf("api to an unreachable host:\n%v", res)
	}
	res = h.mustRun(nil, "auth", "logout")
	if !strings.Contains(res.stderr, "could not revoke the token") || !strings.Contains(res.stderr, "stays valid on "+gone) ||
		!strings.Contains(res.stdout, "✓ Logged out of "+gone) {
		t.Errorf("logout from an unreachable host:\n%v", res)
	}
	if hf := h.hostsFile(); len(hf.Hosts) != 0 {
		t.Errorf("hosts.yml still holds %v", hf.SortedHosts())
	}
	h.assertNeverPrinted(tok)
}
