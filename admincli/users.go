package admincli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
)

// userURI is the admin URI of a user's operation, e.g. users/ann/tier.
func userURI(login, op string) string {
	return api.AdminPrefix + "users/" + url.PathEscape(login) + "/" + op
}

func addUser(cmd *cobra.Command, t Target, args []string) error {
	tier, _ := cmd.Flags().GetString("tier")
	admin, _ := cmd.Flags().GetBool("admin")
	req := api.CreateUserRequest{Login: args[0], Tier: tier, Admin: admin}
	if cmd.Flags().Changed("scopes") {
		// Named, even as "" or none: exactly these, possibly none.
		req.Scopes = []string{}
		if s, _ := cmd.Flags().GetString("scopes"); s != "none" {
			req.Scopes = append(req.Scopes, config.ParseScopeList(s)...)
		}
	}
	var u api.UserInfo
	if err := t.Call("POST", api.AdminPrefix+"users", req, &u); err != nil {
		return err
	}
	role := ""
	if u.Admin {
		role = ", administrator"
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "created user %s (%s), tier %s%s\n", u.Login, u.ID, u.Tier, role)
	return nil
}

// setAdmin is `user set-admin <login> [--off]`.
func setAdmin(cmd *cobra.Command, t Target, args []string) error {
	off, _ := cmd.Flags().GetBool("off")
	var u api.UserInfo
	if err := t.Call("POST", userURI(args[0], "admin"), api.SetAdminRequest{Admin: !off}, &u); err != nil {
		return err
	}
	if u.Admin {
		fmt.Fprintf(cmd.ErrOrStderr(), "user %s is now an administrator\n", u.Login)
	} else {
		fmt.Fprintf(cmd.ErrOrStderr(), "user %s is no longer an administrator\n", u.Login)
	}
	return nil
}

func listUsers(cmd *cobra.Command, t Target, _ []string) error {
	var users []api.UserInfo
	if err := t.Call("GET", api.AdminPrefix+"users", nil, &users); err != nil {
		return err
	}
	if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
		return printJSON(cmd.OutOrStdout(), users)
	}
	tw := table(cmd.OutOrStdout())
	fmt.Fprintln(tw, "LOGIN\tID\tKIND\tTIER\tSTATUS\tSCOPES\tCREATED")
	for _, u := range users {
		status := "active"
		if u.Disabled {
			status = "disabled"
		}
		scopes := strings.Join(u.Scopes, ",")
		if u.AllScopes {
			scopes = "all"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.Login, u.ID, u.Kind, u.Tier, status, scopes, u.Created.Format("2006-01-02"))
	}
	return tw.Flush()
}

// setUserState is `user disable` or `user enable` (verb).
func setUserState(verb string) func(*cobra.Command, Target, []string) error {
	return func(cmd *cobra.Command, t Target, args []string) error {
		var u api.UserInfo
		if err := t.Call("POST", userURI(args[0], verb), struct{}{}, &u); err != nil {
			return err
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "user %s %sd\n", u.Login, verb)
		return nil
	}
}

func setTier(cmd *cobra.Command, t Target, args []string) error {
	var u api.UserInfo
	if err := t.Call("POST", userURI(args[0], "tier"), api.SetTierRequest{Tier: args[1]}, &u); err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "user %s is now on tier %s\n", u.Login, u.Tier)
	return nil
}

const passwdLong = `Sets the password a user logs in with (browser login and POST /api/session).
The password is read from the terminal (asked twice), or with --password-stdin
from the first line of standard input; never from the command line, where
it would land in shell history and process listings. It is hashed with
argon2id here, so only the hash reaches the server. The user's sessions
end, since a reset password usually means the old one is not trusted.`

// passwd is `user passwd`: it reads and hashes the password before it
// opens the target, so a mistyped password touches nothing.
func (r runner) passwd(cmd *cobra.Command, args []string) error {
	fromStdin, _ := cmd.Flags().GetBool("password-stdin")
	pw, err := readNewPassword(args[0], fromStdin, cmd.InOrStdin(), cmd.ErrOrStderr())
	if err != nil {
		cmd.SilenceUsage = true
		return err
	}
	hash, err := authstore.HashPassword(pw)
	if err != nil {
		cmd.SilenceUsage = true
		return err
	}
	return r.run(func(cmd *cobra.Command, t Target, args []string) error {
		var resp api.SetPasswordResponse
		if err := t.Call("POST", userURI(args[0], "password"), api.SetPasswordRequest{PasswordHash: hash}, &resp); err != nil {
			return err
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "password set for %s; %d session(s) ended\n", resp.User.Login, resp.SessionsRevoked)
		return nil
	})(cmd, args)
}

// readNewPassword reads a new password from stdin (one line) or, when
// stdin is a terminal, by asking twice without echo.
func readNewPassword(login string, fromStdin bool, stdin io.Reader, prompt io.Writer) (string, error) {
	var pw string
	tty, isFile := stdin.(*os.File)
	switch {
	case fromStdin:
		line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("reading the password from stdin: %w", err)
		}
		pw = strings.TrimRight(line, "\r\n")
	case isFile && term.IsTerminal(int(tty.Fd())):
		fmt.Fprintf(prompt, "New password for %s: ", login)
		first, err := term.ReadPassword(int(tty.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		fmt.Fprint(prompt, "Repeat it: ")
		second, err := term.ReadPassword(int(tty.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		if string(first) != string(second) {
			return "", errors.New("the passwords do not match")
		}
		pw = string(first)
	default:
		return "", errors.New("standard input is not a terminal: pipe the password in with --password-stdin")
	}
	if err := authstore.CheckPasswordPolicy(pw); err != nil {
		return "", err
	}
	return pw, nil
}

const totpEnableLong = `Gives the user a new TOTP secret and prints its otpauth:// URL, alone, on
stdout, once: enter it into an authenticator app (or turn it into a QR
code, e.g. qrencode -t ansiutf8). From then on login asks for the app's
6-digit code. The secret is kept in the store (a TOTP verifier needs it),
so protect the store file like the secret itself.`

func enableTOTP(cmd *cobra.Command, t Target, args []string) error {
	var resp api.TOTPResponse
	if err := t.Call("POST", userURI(args[0], "totp"), struct{}{}, &resp); err != nil {
		return err
	}
	fmt.Fprintln(cmd.OutOrStdout(), resp.URL)
	fmt.Fprintf(cmd.ErrOrStderr(), "TOTP enabled for %s; the URL above will not be shown again\n", resp.User.Login)
	return nil
}

func disableTOTP(cmd *cobra.Command, t Target, args []string) error {
	var resp api.TOTPResponse
	if err := t.Call("DELETE", userURI(args[0], "totp"), nil, &resp); err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "TOTP disabled for %s\n", resp.User.Login)
	return nil
}
