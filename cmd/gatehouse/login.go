package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
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
	// Password login.
	password      bool
	passwordStdin bool
	user          string
	totp          string
	// withRefresh reads a refresh token from stdin; session asks the
	// device flow for a session.
	withRefresh bool
	session     bool
	// Server settings and storage.
	insecure        bool
	caFile          string
	insecureStorage bool
}

// passwordLogin reports whether the options ask for a password login.
func (o loginOptions) passwordLogin() bool {
	return o.password || o.passwordStdin || o.user != "" || o.totp != ""
}

func (a *app) loginCmd() *cobra.Command {
	o := loginOptions{timeout: 600 * time.Second}
	cmd := &cobra.Command{
		Use:   "login -s HOST",
		Short: "Log in to a server: device flow, password, or a token from stdin",
		Long: `Log in to a server: gatehouse shows a one-time code and opens the
server's approval page in a browser (print only with --no-browser, or when
there is no display); once you approve, the new personal access token is
stored. --scopes, --expires-days and --token-name pre-fill the approval
form, where your choice in the browser wins. With --session the approval
gives a CLI session (a short-lived access token, refreshed as needed)
instead of a token.

With --password (asked on the terminal, no echo) or --password-stdin and
--user, it is a password login, which gives a CLI session; for an account
with two-factor login the one-time code is asked for, or given with --totp.
With --with-token, a token is read from standard input instead, checked
with the server, and stored; with --with-refresh-token, a session's refresh
token is read and exchanged. Passwords and tokens are never taken from the
command line or the environment.

Logging in as another user adds an account (see 'auth switch'). Secrets go
to the system keychain where there is one, else (or with
--insecure-storage) to hosts.yml. --ca-file and --insecure are remembered
for the server.`,
		Example: `  gatehouse auth login -s example.com
  gatehouse auth login -s localhost:8080 --no-browser --scopes wiki:read,papers:read
  gatehouse auth login -s example.com --password
  gatehouse auth login -s example.com -u agent --password-stdin --totp 123456 < password.txt
  gatehouse auth login -s example.com --with-token < token.txt
  gatehouse auth login -s edge.internal --ca-file edge-ca.pem --password`,
		Args: loginArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkLoginFlags(cmd, o); err != nil {
				return err
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
	f.BoolVar(&o.session, "session", false, "device login: ask for a session (short-lived, refreshed) instead of a token")
	f.BoolVar(&o.password, "password", false, "log in with a password, asked for on the terminal (a session)")
	f.BoolVar(&o.passwordStdin, "password-stdin", false, "log in with a password read from standard input (a session)")
	f.StringVarP(&o.user, "user", "u", "", "the `LOGIN` of a password login (asked for on a terminal otherwise)")
	f.StringVar(&o.totp, "totp", "", "the one-time `CODE` of an account with two-factor login")
	f.BoolVar(&o.withRefresh, "with-refresh-token", false, "read a session's refresh token from standard input and exchange it")
	f.BoolVar(&o.insecure, "insecure", false, "do not verify the server's TLS certificate (self-signed); remembered for the server")
	f.StringVar(&o.caFile, "ca-file", "", "trust the certificate authorities in this PEM `FILE` for the server; remembered")
	f.BoolVar(&o.insecureStorage, "insecure-storage", false, "keep the secret in hosts.yml even where a keychain is available")
	return cmd
}

// checkLoginFlags refuses flags that belong to another way of logging in.
func checkLoginFlags(cmd *cobra.Command, o loginOptions) error {
	device := []string{"no-browser", "scopes", "expires-days", "token-name", "timeout", "session"}
	ways := 0
	for _, on := range []bool{o.withToken, o.withRefresh, o.passwordLogin()} {
		if on {
			ways++
		}
	}
	switch {
	case ways > 1:
		return usageError{errors.New("choose one of --with-token, --with-refresh-token and a password login (--password, --password-stdin, --user)")}
	case ways == 1:
		flag := "--with-token"
		switch {
		case o.withRefresh:
			flag = "--with-refresh-token"
		case o.passwordLogin():
			flag = "a password login"
		}
		for _, name := range device {
			if cmd.Flags().Changed(name) {
				return usageError{fmt.Errorf("--%s is for the device login and cannot go with %s", name, flag)}
			}
		}
	}
	if o.password && o.passwordStdin {
		return usageError{errors.New("--password asks on the terminal and --password-stdin reads a pipe: give one")}
	}
	if o.insecure && o.caFile != "" {
		return usageError{errors.New("--ca-file verifies the certificate and --insecure does not: give one")}
	}
	return nil
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
	// The server's settings: the flags, else what is stored.
	settings := &client.Host{}
	if h := hf.Host(key); h != nil {
		settings.Insecure, settings.CAFile = h.Insecure, h.CAFile
	}
	switch {
	case o.insecure:
		settings.Insecure, settings.CAFile = true, ""
	case o.caFile != "":
		abs, err := filepath.Abs(o.caFile)
		if err != nil {
			return err
		}
		if _, err := client.LoadCAFile(abs); err != nil {
			return usageError{err}
		}
		settings.Insecure, settings.CAFile = false, abs
	}
	var entry *client.Host
	switch {
	case o.withToken:
		entry, err = a.loginWithToken(ctx, key, settings)
	case o.withRefresh:
		entry, err = a.loginWithRefreshToken(ctx, key, settings)
	case o.passwordLogin():
		entry, err = a.loginWithPassword(ctx, key, settings, o)
	default:
		entry, err = a.deviceLogin(ctx, key, settings, o)
	}
	if err != nil {
		return err
	}
	if o.insecureStorage {
		entry.Storage = client.StorageFile
	}

	var previous, stored *client.Host
	var others []string
	err = store.Update(ctx, func(f *client.HostsFile) error {
		if h := f.Host(key); h != nil {
			previous = h.Account(entry.User).Credential()
		}
		f.SetAccount(key, entry)
		h := f.Host(key)
		h.Insecure, h.CAFile = settings.Insecure, settings.CAFile
		stored = h
		others = h.AccountNames()[1:]
		return nil
	})
	if err != nil {
		// Nobody else has this credential: do not leave it valid.
		if !o.withToken && a.endCredential(ctx, key, settings, entry) == nil {
			return fmt.Errorf("the login worked, but the credential could not be stored, so it was ended on the server: %w", err)
		}
		return fmt.Errorf("the login worked, but the credential %s could not be stored; revoke it on the server: %w", entry.Hint(), err)
	}
	a.printLogin(key, stored)
	if previous != nil && previous.Token != "" && previous.Token != entry.Token && !previous.IsSession() {
		a.warnf("this replaced the token %s, which stays valid on the server until it expires or is revoked there", previous.Hint())
	}
	if len(others) > 0 {
		fmt.Fprintf(a.stdout, "  other accounts on %s: %s (switch with: %s auth switch -s %s -u LOGIN)\n",
			client.DisplayHost(key), strings.Join(others, ", "), cliName, client.DisplayHost(key))
	}
	return nil
}

// endCredential revokes a PAT or ends a session that could not be stored.
func (a *app) endCredential(ctx context.Context, key string, settings, entry *client.Host) error {
	c := a.bareClient(key, settings)
	c.Token = entry.Token
	if entry.IsSession() {
		_, err := c.Logout(ctx)
		return err
	}
	_, err := c.Revoke(ctx)
	return err
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

// refuseTerminal refuses to read a secret from a terminal where flag
// wants a pipe.
func (a *app) refuseTerminal(flag, key, what string) error {
	if a.isTerminal() {
		return usageError{fmt.Errorf("%s reads the %s from standard input; pipe it in: %s auth login -s %s %s < %s.txt",
			flag, what, cliName, client.DisplayHost(key), flag, strings.ReplaceAll(what, " ", "-"))}
	}
	return nil
}

// loginWithToken reads a token from stdin and checks it with whoami.
func (a *app) loginWithToken(ctx context.Context, key string, settings *client.Host) (*client.Host, error) {
	if err := a.refuseTerminal("--with-token", key, "token"); err != nil {
		return nil, err
	}
	token, err := a.readStdinLine("token", maxTokenInput, false)
	if err != nil {
		return nil, err
	}
	if err := client.CheckToken(token); err != nil {
		return nil, fmt.Errorf("reading the token from standard input: %w", err)
	}
	c := a.bareClient(key, settings)
	c.Token = token
	w, err := c.Whoami(ctx)
	if err != nil {
		return nil, fmt.Errorf("checking the token: %w", err)
	}
	if w.Credential != "" && w.Credential != "pat" {
		return nil, fmt.Errorf("that is a %s credential, not a personal access token; create a token on %s and pipe that in (a session's refresh token goes to --with-refresh-token)",
			w.Credential, client.DisplayHost(key))
	}
	return entryFromWhoami(token, w), nil
}

// loginWithRefreshToken reads a session's refresh token from stdin and
// exchanges it, once, for the session's tokens.
func (a *app) loginWithRefreshToken(ctx context.Context, key string, settings *client.Host) (*client.Host, error) {
	if err := a.refuseTerminal("--with-refresh-token", key, "refresh token"); err != nil {
		return nil, err
	}
	tok, err := a.readStdinLine("refresh token", maxTokenInput, false)
	if err != nil {
		return nil, err
	}
	if err := client.CheckToken(tok); err != nil {
		return nil, fmt.Errorf("reading the refresh token from standard input: %w", err)
	}
	tokens, err := a.bareClient(key, settings).RefreshSession(ctx, tok)
	if err != nil {
		return nil, fmt.Errorf("exchanging the refresh token: %w", err)
	}
	return a.sessionEntry(ctx, key, settings, tokens), nil
}

// maxPasswordInput bounds a password read from stdin.
const maxPasswordInput = 1024

// loginWithPassword runs a password login: the login from --user (or
// asked for), the password from stdin or asked for without echo, and the
// one-time code from --totp or asked for once the server wants it.
func (a *app) loginWithPassword(ctx context.Context, key string, settings *client.Host, o loginOptions) (*client.Host, error) {
	tty := a.isTerminal()
	login := strings.TrimSpace(o.user)
	if login == "" {
		if !tty || o.passwordStdin {
			return nil, usageError{errors.New("give the login with --user LOGIN")}
		}
		var err error
		if login, err = a.prompt("Login: ", false); err != nil {
			return nil, err
		}
		if login = strings.TrimSpace(login); login == "" {
			return nil, usageError{errors.New("no login given")}
		}
	}
	var password string
	switch {
	case o.passwordStdin:
		if tty {
			return nil, usageError{fmt.Errorf("--password-stdin reads the password from standard input; pipe it in, or leave the flag out to be asked")}
		}
		pw, err := a.readStdinLine("password", maxPasswordInput, true)
		if err != nil {
			return nil, err
		}
		password = pw
	case tty:
		pw, err := a.prompt(fmt.Sprintf("Password of %s on %s: ", login, client.DisplayHost(key)), true)
		if err != nil {
			return nil, err
		}
		password = pw
	default:
		return nil, usageError{fmt.Errorf("no terminal to ask for the password on; pipe it in: %s auth login -s %s -u %s --password-stdin < password.txt",
			cliName, client.DisplayHost(key), login)}
	}
	if password == "" {
		return nil, errors.New("the password is empty")
	}
	c := a.bareClient(key, settings)
	tokens, err := c.PasswordLogin(ctx, login, password, strings.TrimSpace(o.totp))
	if errors.Is(err, client.ErrTOTPRequired) {
		if !tty || o.passwordStdin {
			return nil, fmt.Errorf("%s needs the one-time code of %s; run the login again with --totp CODE", client.DisplayHost(key), login)
		}
		code, perr := a.prompt("One-time code: ", false)
		if perr != nil {
			return nil, perr
		}
		tokens, err = c.PasswordLogin(ctx, login, password, strings.TrimSpace(code))
	}
	if err != nil {
		return nil, err
	}
	return a.sessionEntry(ctx, key, settings, tokens), nil
}

// sessionEntry is the hosts.yml entry of new session tokens, with the
// user as whoami tells it.
func (a *app) sessionEntry(ctx context.Context, key string, settings *client.Host, tokens *client.SessionTokens) *client.Host {
	entry := &client.Host{AddedAt: time.Now().UTC().Truncate(time.Second)}
	tokens.Apply(entry)
	c := a.bareClient(key, settings)
	c.Token = tokens.AccessToken
	if w, err := c.Whoami(ctx); err == nil {
		entry.User = w.Login
		if w.Scopes != nil {
			entry.Scopes = w.Scopes
		}
		if !w.ExpiresAt.IsZero() {
			entry.RefreshExpiresAt = w.ExpiresAt.UTC()
		}
	} else {
		a.warnf("logged in, but could not read the session's details: %v", err)
	}
	return entry
}

// deviceLogin runs the device flow and describes the new token.
func (a *app) deviceLogin(ctx context.Context, key string, settings *client.Host, o loginOptions) (*client.Host, error) {
	c := a.bareClient(key, settings)
	dl, err := c.StartDeviceLogin(ctx, client.LoginOptions{
		Scopes:      o.scopes,
		TokenName:   o.tokenName,
		ExpiresDays: o.expiresDays,
		Session:     o.session,
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

	if tok.RefreshToken != "" {
		return a.sessionEntry(ctx, key, settings, &client.SessionTokens{
			AccessToken: tok.AccessToken, ExpiresAt: tok.ExpiresAt, RefreshToken: tok.RefreshToken,
			RefreshExpiresAt: tok.RefreshExpiresAt, SessionID: tok.SessionID, Scopes: tok.Scopes,
		}), nil
	}
	if o.session {
		a.warnf("%s gave a personal access token instead of a session (it is too old for --session)", client.DisplayHost(key))
	}
	wc := a.bareClient(key, settings)
	wc.Token = tok.AccessToken
	w, err := wc.Whoami(ctx)
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

// printLogin reports a stored login, never showing the secret.
func (a *app) printLogin(key string, h *client.Host) {
	who := ""
	if h.User != "" {
		who = " as " + h.User
	}
	fmt.Fprintf(a.stdout, "✓ Logged in to %s%s\n", client.DisplayHost(key), who)
	if h.IsSession() {
		fmt.Fprintf(a.stdout, "  session: %s (refreshed as needed)\n", h.SessionID)
	} else {
		name := ""
		if h.TokenName != "" {
			name = fmt.Sprintf(" (%q)", h.TokenName)
		}
		fmt.Fprintf(a.stdout, "  token:   %s%s\n", h.Hint(), name)
	}
	fmt.Fprintf(a.stdout, "  scopes:  %s\n", scopesText(h.Scopes))
	exp, end := "never", h.ExpiresAt
	if h.IsSession() {
		end = h.RefreshExpiresAt
	}
	if !end.IsZero() {
		exp = fmt.Sprintf("%s (in %s)", client.FormatTime(end), roughDuration(time.Until(end)))
	}
	fmt.Fprintf(a.stdout, "  expires: %s\n", exp)
	fmt.Fprintf(a.stdout, "  stored:  %s\n", storageText(h))
	if note := h.StorageNote(); note != nil {
		a.warnf("the secret is in hosts.yml, not the keychain: %v", note)
	}
}

// storageText says where an account's secret lives.
func storageText(h *client.Host) string {
	if h.Storage == client.StorageKeyring {
		return "system keychain"
	}
	return "hosts.yml"
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
