// Command gatehouse is the end-user CLI of a Gatehouse server: it logs in
// with the device flow, a password (a CLI session) or a pasted token,
// keeps credentials in the system keychain or
// ~/.config/gatehouse/hosts.yml, and calls the API behind the gateway,
// refreshing sessions as needed.
//
//	gatehouse auth login -s example.com
//	gatehouse api /v1/papers
//	gatehouse auth status
//	gatehouse auth logout
//
// All of the work is done by package client; this command only parses
// flags and prints.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cli/browser"
	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/client"
)

// cliName is the command's name, in messages and in the config path.
const cliName = "gatehouse"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// What a browser launcher prints is not ours to put on stdout.
	browser.Stdout, browser.Stderr = os.Stderr, os.Stderr
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole command without the process around it, so that tests
// drive it in-process. It returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return newApp(stdin, stdout, stderr).run(ctx, args)
}

// app is one invocation: its streams, its environment, and the global
// flags. Tests replace the environment.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// getenv reads the environment (DISPLAY, WAYLAND_DISPLAY).
	getenv func(string) string
	// hostsPath overrides the hosts file's path; empty means the default.
	hostsPath string
	// openBrowser opens a URL in the user's browser.
	openBrowser func(url string) error
	// goos is runtime.GOOS, for the display check.
	goos string
	// requestTimeout is --request-timeout.
	requestTimeout time.Duration
	// keyring, if set, is the keychain (tests); nil means the system's
	// where one can be reached (see systemKeyring).
	keyring client.Keyring
	// isTerminal reports whether stdin is a terminal one can prompt on;
	// readSecret reads a line from it without echo.
	isTerminal func() bool
	readSecret func() (string, error)
	// warnedInsecure: the --insecure warning was printed (status checks
	// hosts in parallel).
	warnedInsecure atomic.Bool
}

func newApp(stdin io.Reader, stdout, stderr io.Writer) *app {
	return &app{
		stdin:          stdin,
		stdout:         stdout,
		stderr:         stderr,
		getenv:         os.Getenv,
		openBrowser:    browser.OpenURL,
		goos:           runtime.GOOS,
		requestTimeout: client.DefaultTimeout,
		isTerminal:     func() bool { return stdinTerminal(stdin) },
		readSecret:     func() (string, error) { return readNoEcho(stdin) },
	}
}

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// usageError is a mistake on the command line.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// errSilent ends a command whose failure was already reported.
var errSilent = errors.New("failure already reported")

func (a *app) run(ctx context.Context, args []string) int {
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	cmd, err := root.ExecuteContextC(ctx)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errSilent):
		return exitError
	}
	var ue usageError
	if errors.As(err, &ue) || isCobraUsageError(err) {
		fmt.Fprintf(a.stderr, "%s: %v\nRun '%s --help' for usage.\n", cliName, err, cmd.CommandPath())
		return exitUsage
	}
	fmt.Fprintf(a.stderr, "%s: %v\n", cliName, err)
	return exitError
}

// isCobraUsageError recognises the errors cobra makes itself for an
// unknown command or a wrong number of arguments.
func isCobraUsageError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command ", "accepts ", "requires at least ", "unknown flag", "unknown shorthand"} {
		if len(msg) >= len(p) && msg[:len(p)] == p {
			return true
		}
	}
	return false
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   cliName,
		Short: "Log in to a Gatehouse server and call its API",
		Long: `gatehouse logs in to a Gatehouse-protected server with the device flow
or a password, keeps the resulting token or session in the system keychain
or hosts.yml ($XDG_CONFIG_HOME/gatehouse, else ~/.config/gatehouse; mode
0600), and calls the server's API with it, refreshing a session as needed.

No flag or environment variable ever carries a token or password: log in
with the device flow or a password prompt, or pipe one to 'gatehouse auth
login' (--with-token, --password-stdin, --with-refresh-token).`,
		Version:       version(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().Var(&secondsValue{&a.requestTimeout}, "request-timeout",
		"time limit of each HTTP request, in seconds or as a duration (30, 1m)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(a.authCmd(), a.apiCmd(), a.configCmd())
	return root
}

// version is the module version the binary was built from.
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// store opens the hosts file.
func (a *app) store() (*client.Store, error) {
	path := a.hostsPath
	if path == "" {
		p, err := client.DefaultHostsPath(cliName)
		if err != nil {
			return nil, err
		}
		path = p
	}
	return client.NewKeyringStore(path, a.systemKeyring()), nil
}

// systemKeyring is the keychain secrets go to, or nil for hosts.yml. On
// Linux and the BSDs the Secret Service is reached over the session
// D-Bus: without DBUS_SESSION_BUS_ADDRESS there is none to reach (and no
// bus is started for it); GATEHOUSE_KEYRING=off keeps every secret in
// hosts.yml.
func (a *app) systemKeyring() client.Keyring {
	if a.keyring != nil {
		return a.keyring
	}
	if a.getenv("GATEHOUSE_KEYRING") == "off" {
		return nil
	}
	switch a.goos {
	case "darwin", "windows":
		return client.SystemKeyring{}
	}
	if a.getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		return nil
	}
	return client.SystemKeyring{}
}

// loadHosts opens hosts.yml and reads it.
func (a *app) loadHosts() (*client.Store, *client.HostsFile, error) {
	store, err := a.store()
	if err != nil {
		return nil, nil, err
	}
	hf, err := store.Load()
	if err != nil {
		return nil, nil, err
	}
	return store, hf, nil
}

// client returns a client for a host and its stored entry (nil for
// none): the entry's active account, and the server's settings.
func (a *app) client(key string, h *client.Host) *client.Client {
	return a.clientFor(key, h, h)
}

// clientFor returns a client for the account acct (nil: anonymous) of
// the server key whose stored entry (settings: --insecure, --ca-file) is
// h. A session's client renews its token through hosts.yml.
func (a *app) clientFor(key string, h, acct *client.Host) *client.Client {
	c := a.bareClient(key, h)
	if acct == nil {
		return c
	}
	c.Token, c.TokenExpiresAt, c.TokenScopes = acct.Token, acct.ExpiresAt, acct.Scopes
	if acct.IsSession() {
		if store, err := a.store(); err == nil {
			c.Credentials = client.NewStoredCredentials(store, key, acct, a.bareClient(key, h))
		}
	}
	return c
}

// bareClient is a client of the server key with its settings and no
// credential. --insecure is warned about on every use.
func (a *app) bareClient(key string, h *client.Host) *client.Client {
	c := &client.Client{Host: key}
	hc, err := client.HTTPClient(h, a.requestTimeout)
	if err != nil {
		a.warnf("%v; using the system's certificate authorities", err)
		hc = &http.Client{Timeout: a.requestTimeout}
	}
	if h != nil && h.Insecure && a.warnedInsecure.CompareAndSwap(false, true) {
		a.warnf("the TLS certificate of %s is not verified (--insecure); anyone on the way can read and change what is sent", client.DisplayHost(key))
	}
	c.HTTPClient = hc
	c.UserAgent = fmt.Sprintf("%s/%s (%s/%s)", cliName, version(), runtime.GOOS, runtime.GOARCH)
	c.CLIName = cliName
	return c
}

// warnf writes a warning to stderr.
func (a *app) warnf(format string, args ...any) {
	fmt.Fprintf(a.stderr, "! "+format+"\n", args...)
}

// noArgs refuses arguments as a usage error. It never repeats them: the
// stray argument may be a token pasted on the command line, which must not
// be echoed into a terminal log or CI output as well.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("'%s' takes no arguments (got %d)", cmd.CommandPath(), len(args))}
	}
	return nil
}

// exactArgs wants n arguments, as a usage error.
func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError{fmt.Errorf("want %s, got %d argument(s)", names, len(args))}
		}
		return nil
	}
}
