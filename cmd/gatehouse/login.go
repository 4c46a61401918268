package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/client"
)

// maxTokenInput bounds what --with-token reads from stdin.
const maxTokenInput = 4096

// loginOptions are the flags of `auth login`.
type loginOptions struct {
	server      string
	noBrowser   bool
	scopes      []string
	expiresDays int
	tokenName   string
	timeout     time.Duration
	withToken   bool
}

func (a *app) loginCmd() *cobra.Command {
	o := loginOptions{timeout: 600 * time.Second}
	cmd := &cobra.Command{
		Use:   "login -s HOST",
		Short: "Log in to a server with the device flow, or store a token from stdin",
		Long: `Log in to a server: gatehouse shows a one-time code and opens the
server's approval page in a browser (print only with --no-browser, or when
there is no display); once you approve, the new personal access token is
stored in hosts.yml. --scopes, --expires-days and --token-name pre-fill the
approval form, where your choice in the browser wins.

With --with-token, a token is read from standard input instead, checked
with the server, and stored.`,
		Example: `  gatehouse auth login -s example.com
  gatehouse auth login -s localhost:8080 --no-browser --scopes wiki:read,papers:read
  gatehouse auth login -s example.com --with-token < token.txt`,
		Args: loginArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.withToken {
				for _, name := range []string{"no-browser", "scopes", "expires-days", "token-name", "timeout"} {
					if cmd.Flags().Changed(name) {
						return usageError{fmt.Errorf("--%s is for the device login and cannot go with --with-token", name)}
					}
				}
			}
			if o.expiresDays < 0 {
				return usageError{errors.New("--expires-days must be positive")}
			}
			o.scopes = cleanScopes(o.scopes)
			return a.login(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.server, "server", "s", "", "the server, as `HOST[:PORT]` or a URL")
	f.BoolVar(&o.noBrowser, "no-browser", false, "print the URL and code without opening a browser")
	f.StringSliceVar(&o.scopes, "scopes", nil, "scopes to ask for, comma-separated (`a,b`)")
	f.IntVar(&o.expiresDays, "expires-days", 0, "token lifetime to ask for, in `days`")
	f.StringVar(&o.tokenName, "token-name", "", "`name` to give the token")
	f.Var(&secondsValue{&o.timeout}, "timeout", "how long to wait for the approval, in seconds")
	f.BoolVar(&o.withToken, "with-token", false, "read a token from standard input instead of the device login")
	return cmd
}

// login runs `auth login`.
func (a *app) login(ctx context.Context, o loginOptions) error {
	// Read the file first: a login whose token cannot be stored should
	// fail before the user approves anything.
	store, hf, err := a.loadHosts()
	if err != nil {
		return err
	}
	key, err := loginHost(hf, o.server)
	if err != nil {
		return err
	}
	if client.IsPlainHTTP(key) {
		a.warnf("%s is plain http: the token will cross the network unencrypted", key)
	}
	var entry *client.Host
	if o.withToken {
		entry, err = a.loginWithToken(ctx, key)
	} else {
		entry, err = a.deviceLogin(ctx, key, o)
	}
	if err != nil {
		return err
	}

	var previous *client.Host
	err = store.Update(ctx, func(f *client.HostsFile) error {
		previous = f.Host(key)
		f.SetHost(key, entry)
		return nil
	})
	if err != nil {
		if !o.withToken {
			// Nobody else has this token: do not leave it valid.
			if _, rerr := a.client(key, entry).Revoke(ctx); rerr == nil {
				return fmt.Errorf("the login worked, but the token could not be stored, so it was revoked: %w", err)
			}
		}
		return fmt.Errorf("the login worked, but the token %s could not be stored; revoke it on the server: %w", entry.Hint(), err)
	}
	a.printLogin(key, entry)
	if previous != nil && previous.Token != "" && previous.Token != entry.Token {
		a.warnf("this replaced the token %s, which stays valid on the server until it expires or is revoked there", previous.Hint())
	}
	return nil
}

// loginArgs refuses arguments with the two things they usually are: a
// server given without -s, or a token, which is never read from the
// command line (and so is not echoed back either).
func loginArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("'%s auth login' takes no arguments: give the server with -s HOST, and pipe a token to --with-token (never on the command line)", cliName)}
	}
	return nil
}

// cleanScopes trims the scopes of --scopes and drops empty ones
// (`--scopes "a, b,"`).
func cleanScopes(in []string) []string {
	var out []string
	for _, s := range in {
		out = append(out, strings.Fields(s)...)
	}
	return out
}

// loginHost is the server to log in to: -s, else the default server, else
// the only stored one.
func loginHost(hf *client.HostsFile, server string) (string, error) {
	if server != "" {
		return client.NormalizeHost(server)
	}
	if hf.DefaultServer != "" {
		return hf.DefaultServer, nil
	}
	if keys := hf.SortedHosts(); len(keys) == 1 {
		return keys[0], nil
	}
	return "", usageError{fmt.Errorf("which server? run: %s auth login -s HOST", cliName)}
}

// loginWithToken reads a token from stdin and checks it with whoami.
func (a *app) loginWithToken(ctx context.Context, key string) (*client.Host, error) {
	if f, ok := a.stdin.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			return nil, usageError{fmt.Errorf("--with-token reads the token from standard input; pipe it in: %s auth login -s %s --with-token < token.txt",
				cliName, client.DisplayHost(key))}
		}
	}
	data, err := io.ReadAll(io.LimitReader(a.stdin, maxTokenInput+1))
	if err != nil {
		return nil, fmt.Errorf("reading the token from standard input: %w", err)
	}
	if len(data) > maxTokenInput {
		return nil, fmt.Errorf("standard input holds more than %d bytes; give only the token", maxTokenInput)
	}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	token := ""
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			if token != "" {
				return nil, errors.New("standard input holds more than one line; give only the token")
			}
			token = line
		}
	}
	if err := client.CheckToken(token); err != nil {
		return nil, fmt.Errorf("reading the token from standard input: %w", err)
	}
	w, err := a.client(key, &client.Host{Token: token}).Whoami(ctx)
	if err != nil {
		return nil, fmt.Errorf("checking the token: %w", err)
	}
	if w.Credential != "" && w.Credential != "pat" {
		return nil, fmt.Errorf("that is a %s credential, not a personal access token; create a token on %s and pipe that in",
			w.Credential, client.DisplayHost(key))
	}
	return entryFromWhoami(token, w), nil
}

// deviceLogin runs the device flow and describes the new token.
func (a *app) deviceLogin(ctx context.Context, key string, o loginOptions) (*client.Host, error) {
	c := a.client(key, nil)
	dl, err := c.StartDeviceLogin(ctx, client.LoginOptions{
		Scopes:      o.scopes,
		TokenName:   o.tokenName,
		ExpiresDays: o.expiresDays,
	})
	if err != nil {
		return nil, err
	}
	page := dl.BrowserURL()
	if page == "" {
		page = dl.VerificationURI
	}
	fmt.Fprintf(a.stderr, "! First copy your one-time code: %s\n", dl.UserCode)
	if dl.BrowserURL() != "" && !o.noBrowser && a.hasDisplay() {
		fmt.Fprintf(a.stderr, "Opening %s in your browser to approve the login.\n", page)
		if err := a.openBrowser(dl.BrowserURL()); err != nil {
			a.warnf("could not open a browser (%v); open the page yourself", err)
		}
	} else {
		fmt.Fprintf(a.stderr, "Open %s in a browser to approve the login.\n", page)
	}
	fmt.Fprintf(a.stderr, "Waiting for approval (the code expires in %s)…\n", roughDuration(time.Until(dl.ExpiresAt)))

	wctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	tok, err := dl.Wait(wctx)
	if err != nil {
		switch {
		case ctx.Err() != nil:
			return nil, fmt.Errorf("login to %s cancelled", client.DisplayHost(key))
		case wctx.Err() != nil:
			return nil, fmt.Errorf("no approval within %s; run the login again (--timeout waits longer)", o.timeout)
		}
		return nil, err
	}

	w, err := a.client(key, &client.Host{Token: tok.AccessToken}).Whoami(ctx)
	if err != nil {
		// The token exists; keep it with what the grant said.
		a.warnf("logged in, but could not read the token's details: %v", err)
		return &client.Host{Token: tok.AccessToken, AddedAt: time.Now().UTC(), TokenHint: client.TokenHint(tok.AccessToken),
			TokenName: o.tokenName, Scopes: tok.Scopes, ExpiresAt: tok.ExpiresAt}, nil
	}
	return entryFromWhoami(tok.AccessToken, w), nil
}

// entryFromWhoami is the hosts.yml entry for a token the server described.
func entryFromWhoami(token string, w *client.Whoami) *client.Host {
	hint := w.TokenHint
	if hint == "" {
		hint = client.TokenHint(token)
	}
	return &client.Host{
		Token:     token,
		User:      w.Login,
		AddedAt:   time.Now().UTC().Truncate(time.Second),
		TokenID:   w.TokenID,
		TokenHint: hint,
		TokenName: w.TokenName,
		Scopes:    w.Scopes,
		ExpiresAt: w.ExpiresAt.UTC(),
	}
}

// printLogin reports a stored login, never showing the token.
func (a *app) printLogin(key string, h *client.Host) {
	who := ""
	if h.User != "" {
		who = " as " + h.User
	}
	fmt.Fprintf(a.stdout, "✓ Logged in to %s%s\n", client.DisplayHost(key), who)
	name := ""
	if h.TokenName != "" {
		name = fmt.Sprintf(" (%q)", h.TokenName)
	}
	fmt.Fprintf(a.stdout, "  token:   %s%s\n", h.Hint(), name)
	fmt.Fprintf(a.stdout, "  scopes:  %s\n", scopesText(h.Scopes))
	exp := "never"
	if !h.ExpiresAt.IsZero() {
		exp = fmt.Sprintf("%s (in %s)", client.FormatTime(h.ExpiresAt), roughDuration(time.Until(h.ExpiresAt)))
	}
	fmt.Fprintf(a.stdout, "  expires: %s\n", exp)
}

// hasDisplay reports whether a browser can be shown: on Linux and the
// BSDs, only with $DISPLAY or $WAYLAND_DISPLAY.
func (a *app) hasDisplay() bool {
	switch a.goos {
	case "linux", "freebsd", "openbsd", "netbsd", "dragonfly", "solaris", "illumos":
		return a.getenv("DISPLAY") != "" || a.getenv("WAYLAND_DISPLAY") != ""
	}
	return true
}
