package integration

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/client"
)

// These helpers play the two halves of a person logging in from a
// terminal: cliHome runs the real `gatehouse` binary (built by TestMain)
// in a home directory of its own, and formBrowser approves the code through
// the server's own pages, as a web browser would post them.

// cliPassword is the password of the users the CLI tests sign in as.
const cliPassword = "correct horse battery"

// cliTimeout bounds every run of the binary, so a hung login fails the
// test instead of the run.
const cliTimeout = 90 * time.Second

// newCLIGateway starts a gateway serving Gatehouse's endpoints with the
// usual rules, polling every second (logins take seconds, not tens of
// them), and a user alice who can sign in. extra adds Caddyfile sites.
func newCLIGateway(t *testing.T, extra string) *gateway {
	t.Helper()
	g := newGateway(t, setup{global: defaultGlobal + "\ndevice_interval 1s", site: "endpoints\n" + defaultSite, extra: extra})
	g.dumpLogOnFailure()
	g.addUserWithPassword("alice", cliPassword)
	return g
}

// cliHost is the main site as the CLI names it (`-s 127.0.0.1:PORT`) and
// displays it.
func cliHost() string { return fmt.Sprintf("127.0.0.1:%d", httpPort) }

// cliHome is one person's machine: a HOME and XDG_CONFIG_HOME of its own,
// so that the hosts.yml every run of the binary reads and writes is this
// test's alone.
type cliHome struct {
	t      *testing.T
	home   string
	config string
	mu     sync.Mutex
	output []string // everything every run printed, for the secret check
	// bus is the session D-Bus the runs reach (a Secret Service); empty
	// means none, so secrets stay in hosts.yml whatever the test runner's
	// environment has.
	bus string
}

func newCLIHome(t *testing.T) *cliHome {
	home := t.TempDir()
	return &cliHome{t: t, home: home, config: filepath.Join(home, "xdg-config")}
}

// hostsPath is where the binary keeps hosts.yml: XDG_CONFIG_HOME wins.
func (h *cliHome) hostsPath() string {
	return filepath.Join(h.config, "gatehouse", client.HostsFileName)
}

// env is the process environment with HOME and XDG_CONFIG_HOME pointing
// into the test, no display, so nothing could open a browser even
// without --no-browser, and no session bus unless the test gave one.
func (h *cliHome) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "HOME", "XDG_CONFIG_HOME", "DISPLAY", "WAYLAND_DISPLAY", "BROWSER", "DBUS_SESSION_BUS_ADDRESS", "GATEHOUSE_KEYRING":
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "HOME="+h.home, "XDG_CONFIG_HOME="+h.config)
	if h.bus != "" {
		env = append(env, "DBUS_SESSION_BUS_ADDRESS="+h.bus)
	}
	return env
}

// cliResult is what one run printed and how it exited.
type cliResult struct {
	args           []string
	stdout, stderr string
	code           int
}

func (r cliResult) String() string {
	return fmt.Sprintf("gatehouse %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

func (h *cliHome) command(ctx context.Context, stdin io.Reader, args []string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, gatehouseBin, args...)
	cmd.Env = h.env()
	cmd.Dir = h.home
	cmd.Stdin = stdin // nil is /dev/null
	return cmd
}

func (h *cliHome) record(r cliResult) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.output = append(h.output, r.stdout, r.stderr)
}

// run runs the binary to its end with stdin (nil: /dev/null).
func (h *cliHome) run(stdin io.Reader, args ...string) cliResult {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	cmd := h.command(ctx, stdin, args)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := cliResult{args: args, stdout: stdout.String(), stderr: stderr.String(), code: exitCode(h.t, err)}
	h.record(r)
	return r
}

// mustRun runs the binary and fails the test unless it exits 0.
func (h *cliHome) mustRun(stdin io.Reader, args ...string) cliResult {
	h.t.Helper()
	r := h.run(stdin, args...)
	if r.code != 0 {
		h.t.Fatalf("%v", r)
	}
	return r
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok && ee.Exited() {
		return ee.ExitCode()
	}
	t.Fatalf("running gatehouse: %v", err)
	return -1
}

// assertNeverPrinted fails if any run printed one of the secrets.
func (h *cliHome) assertNeverPrinted(secrets ...string) {
	h.t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, out := range h.output {
		for _, s := range secrets {
			if s != "" && strings.Contains(out, s) {
				h.t.Errorf("the binary printed a secret:\n%s", out)
			}
		}
	}
}

// hostsFile reads hosts.yml the way the binary does.
func (h *cliHome) hostsFile() *client.HostsFile {
	h.t.Helper()
	hf, err := client.NewStore(h.hostsPath()).Load()
	if err != nil {
		h.t.Fatalf("reading hosts.yml: %v", err)
	}
	return hf
}

// assertModes checks that hosts.yml is 0600 in a 0700 directory.
func (h *cliHome) assertModes() {
	h.t.Helper()
	for _, c := range []struct {
		path string
		want os.FileMode
	}{{filepath.Dir(h.hostsPath()), 0o700}, {h.hostsPath(), 0o600}} {
		fi, err := os.Stat(c.path)
		if err != nil {
			h.t.Fatal(err)
		}
		if fi.Mode().Perm() != c.want {
			h.t.Errorf("%s has mode %04o, want %04o", c.path, fi.Mode().Perm(), c.want)
		}
	}
}

// deviceRun is a `gatehouse auth login` running in the background: the
// test reads the code from its output, as a person would, approves it,
// and waits for the end.
type deviceRun struct {
	t       *testing.T
	prompts chan devicePrompt
	done    chan struct{}
	mu      sync.Mutex
	stderr  strings.Builder
	result  cliResult
}

// devicePrompt is what the CLI tells the person: the code and the page.
type devicePrompt struct {
	userCode, url string
}

var (
	userCodeLine = regexp.MustCompile(`one-time code: ([B-DF-HJ-NP-TV-XZ]{4}-[B-DF-HJ-NP-TV-XZ]{4})\b`)
	pageLine     = regexp.MustCompile(`Open (https?://\S+) in a browser`)
)

// startLogin starts the binary with args and watches its stderr for the
// code and the page to open.
func (h *cliHome) startLogin(args ...string) *deviceRun {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	cmd := h.command(ctx, nil, args)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	pipe, err := cmd.StderrPipe()
	if err != nil {
		h.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	d := &deviceRun{t: h.t, prompts: make(chan devicePrompt, 1), done: make(chan struct{})}
	go func() {
		defer close(d.done)
		defer cancel()
		var p devicePrompt
		sent := false
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			line := sc.Text()
			d.mu.Lock()
			d.stderr.WriteString(line + "\n")
			d.mu.Unlock()
			if m := userCodeLine.FindStringSubmatch(line); m != nil {
				p.userCode = m[1]
			}
			if m := pageLine.FindStringSubmatch(line); m != nil {
				p.url = m[1]
			}
			if !sent && p.userCode != "" && p.url != "" {
				d.prompts <- p
				sent = true
			}
		}
		_, _ = io.Copy(io.Discard, pipe)
		err := cmd.Wait()
		d.mu.Lock()
		defer d.mu.Unlock()
		d.result = cliResult{args: args, stdout: stdout.String(), stderr: d.stderr.String(), code: -1}
		if ee, ok := err.(*exec.ExitError); ok && ee.Exited() {
			d.result.code = ee.ExitCode()
		} else if err == nil {
			d.result.code = 0
		}
		h.record(d.result)
	}()
	h.t.Cleanup(func() {
		cancel() // kills the process if the test ended early
		<-d.done
	})
	return d
}

// prompt waits for the code and the page the CLI prints.
func (d *deviceRun) prompt() devicePrompt {
	d.t.Helper()
	select {
	case p := <-d.prompts:
		return p
	case <-d.done:
		d.mu.Lock()
		defer d.mu.Unlock()
		d.t.Fatalf("the login ended without showing a code:\n%v", d.result)
	case <-time.After(30 * time.Second):
		d.mu.Lock()
		defer d.mu.Unlock()
		d.t.Fatalf("no code shown within 30s; stderr so far:\n%s", d.stderr.String())
	}
	return devicePrompt{}
}

// wait waits for the login to end and returns what it printed.
func (d *deviceRun) wait() cliResult {
	d.t.Helper()
	select {
	case <-d.done:
	case <-time.After(cliTimeout + 5*time.Second):
		d.t.Fatal("the login did not end")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.result
}

// formBrowser is the person's web browser: cookies per host, no automatic
// redirects (so a test sees each 303), and the headers a browser sends
// with a same-origin form.
type formBrowser struct {
	t *testing.T
	c *http.Client
}

func newFormBrowser(t *testing.T) *formBrowser {
	jar, _ := cookiejar.New(nil)
	return &formBrowser{t: t, c: &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (b *formBrowser) do(method, rawURL string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, rawURL, body)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) gatehouse-integration")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", req.URL.Scheme+"://"+req.URL.Host)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp, string(raw)
}

// resolve makes a link on a page absolute.
func resolve(t *testing.T, base *url.URL, ref string) *url.URL {
	t.Helper()
	u, err := base.Parse(ref)
	if err != nil {
		t.Fatalf("link %q on %s: %v", ref, base, err)
	}
	return u
}

// openDevicePage is what the person does with the URL the CLI printed:
// open it and, when the server sends them to sign in first, sign in and
// follow the way back. It returns the approval page and its address.
func (b *formBrowser) openDevicePage(pageURL, login, password string) (*url.URL, string) {
	b.t.Helper()
	page, err := url.Parse(pageURL)
	if err != nil {
		b.t.Fatal(err)
	}
	resp, body := b.do("GET", page.String(), nil)
	if resp.StatusCode == http.StatusSeeOther {
		to := resolve(b.t, page, resp.Header.Get("Location"))
		if to.Path != "/login" || to.Query().Get("next") != page.RequestURI() {
			b.t.Fatalf("the device page sent a browser without a session to %s, want /login?next=%s", to, url.QueryEscape(page.RequestURI()))
		}
		resp, body = b.do("POST", to.Scheme+"://"+to.Host+to.Path, url.Values{
			"login": {login}, "password": {password}, "next": {to.Query().Get("next")},
		})
		if resp.StatusCode != http.StatusSeeOther {
			b.t.Fatalf("signing in: %d %s", resp.StatusCode, body)
		}
		if back := resolve(b.t, to, resp.Header.Get("Location")); back.String() != page.String() {
			b.t.Fatalf("after signing in the browser went to %s, want %s", back, page)
		}
		resp, body = b.do("GET", page.String(), nil)
	}
	if resp.StatusCode != http.StatusOK {
		b.t.Fatalf("GET %s: %d %s", page, resp.StatusCode, body)
	}
	return page, body
}

// decideDevice opens the page the CLI printed, checks it shows the code,
// and submits its approval form as the page fills it, with changes
// replacing fields (a person editing the form) and action (`approve` or
// `deny`) as the button pressed. It returns the server's answer.
func (b *formBrowser) decideDevice(p devicePrompt, login, action string, changes url.Values) (*http.Response, string) {
	b.t.Helper()
	page, body := b.openDevicePage(p.url, login, cliPassword)
	if !strings.Contains(body, p.userCode) {
		b.t.Errorf("the approval page does not show the code %s:\n%s", p.userCode, body)
	}
	target, form := approvalForm(b.t, page, body)
	for k, vs := range changes {
		form[k] = vs
	}
	if form.Get("user_code") == "" {
		form.Set("user_code", p.userCode)
	}
	form.Set("action", action)
	return b.do("POST", target.String(), form)
}

var (
	formTag     = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	inputTag    = regexp.MustCompile(`(?is)<input\b([^>]*)>`)
	selectTag   = regexp.MustCompile(`(?is)<select\b([^>]*)>(.*?)</select>`)
	optionTag   = regexp.MustCompile(`(?is)<option\b([^>]*)>`)
	textareaTag = regexp.MustCompile(`(?is)<textarea\b([^>]*)>(.*?)</textarea>`)
	attribute   = regexp.MustCompile(`([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>` + "`" + `]+)))?`)
)

// attrs reads a tag's attributes, names lower-cased, values unescaped.
func attrs(s string) map[string]string {
	out := map[string]string{}
	for _, m := range attribute.FindAllStringSubmatch(s, -1) {
		name := strings.ToLower(m[1])
		if _, dup := out[name]; !dup {
			out[name] = html.UnescapeString(m[2] + m[3] + m[4])
		}
	}
	return out
}

// approvalForm finds the page's approval form (the POST form with a
// user_code field, or posting to the device page) and returns where it
// posts and the fields a browser would send without any edit: hidden and
// text fields, checked boxes, selected options. Buttons are left out; the
// caller presses one.
func approvalForm(t *testing.T, page *url.URL, body string) (*url.URL, url.Values) {
	t.Helper()
	for _, m := range formTag.FindAllStringSubmatch(body, -1) {
		fa, inner := attrs(m[1]), m[2]
		target := resolve(t, page, fa["action"])
		if fa["action"] == "" {
			target = &url.URL{Scheme: page.Scheme, Host: page.Host, Path: page.Path}
		}
		if !strings.EqualFold(fa["method"], "post") ||
			(!strings.Contains(inner, `name="user_code"`) && target.Path != page.Path) {
			continue
		}
		form := url.Values{}
		for _, in := range inputTag.FindAllStringSubmatch(inner, -1) {
			a := attrs(in[1])
			name := a["name"]
			_, disabled := a["disabled"]
			if name == "" || disabled {
				continue
			}
			switch strings.ToLower(a["type"]) {
			case "submit", "button", "image", "reset", "file":
			case "checkbox", "radio":
				if _, checked := a["checked"]; checked {
					form.Add(name, cmp.Or(a["value"], "on"))
				}
			default:
				form.Add(name, a["value"])
			}
		}
		for _, sel := range selectTag.FindAllStringSubmatch(inner, -1) {
			name := attrs(sel[1])["name"]
			if name == "" {
				continue
			}
			first := ""
			for i, opt := range optionTag.FindAllStringSubmatch(sel[2], -1) {
				a := attrs(opt[1])
				if i == 0 {
					first = a["value"]
				}
				if _, selected := a["selected"]; selected {
					first = a["value"]
					break
				}
			}
			form.Add(name, first)
		}
		for _, ta := range textareaTag.FindAllStringSubmatch(inner, -1) {
			if name := attrs(ta[1])["name"]; name != "" {
				form.Add(name, html.UnescapeString(ta[2]))
			}
		}
		return target, form
	}
	t.Fatalf("no approval form on %s:\n%s", page, body)
	return nil, nil
}
