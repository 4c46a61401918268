package caddymodule

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
)

func init() {
	commandGroups = append(commandGroups, sessionCommand)
	userSubcommands = append(userSubcommands, passwdCommand, totpCommand)
}

func passwdCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "passwd <login> [--password-stdin]",
		Short: "Sets a user's password and ends their sessions",
		Long: `Sets the password a user logs in with (browser login and POST /api/session).
The password is read from the terminal (asked twice), or with --password-stdin
from the first line of standard input; never from the command line, where
it would land in shell history and process listings. It is hashed with
argon2id here, so only the hash reaches the server. The user's sessions
end, since a reset password usually means the old one is not trusted.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fromStdin, _ := cmd.Flags().GetBool("password-stdin")
			pw, err := readNewPassword(args[0], fromStdin, os.Stdin, os.Stderr)
			if err != nil {
				cmd.SilenceUsage = true
				return err
			}
			hash, err := authstore.HashPassword(pw)
			if err != nil {
				cmd.SilenceUsage = true
				return err
			}
			return runE(func(_ *cobra.Command, t *cliTarget, args []string) error {
				var resp api.SetPasswordResponse
				if err := t.call("POST", adminPrefix+"users/"+url.PathEscape(args[0])+"/password", api.SetPasswordRequest{PasswordHash: hash}, &resp); err != nil {
					return err
				}
				fmt.Fprintf(os.Stderr, "password set for %s; %d session(s) ended\n", resp.User.Login, resp.SessionsRevoked)
				return nil
			})(cmd, args)
		},
	}
	cmd.Flags().Bool("password-stdin", false, "Read the password from the first line of standard input")
	return cmd
}

// readNewPassword reads a new password from stdin (one line) or, when
// stdin is a terminal, by asking twice without echo.
func readNewPassword(login string, fromStdin bool, stdin *os.File, prompt io.Writer) (string, error) {
	var pw string
	switch {
	case fromStdin:
		line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("reading the password from stdin: %w", err)
		}
		pw = strings.TrimRight(line, "\r\n")
	case term.IsTerminal(int(stdin.Fd())):
		fmt.Fprintf(prompt, "New password for %s: ", login)
		first, err := term.ReadPassword(int(stdin.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		fmt.Fprint(prompt, "Repeat it: ")
		second, err := term.ReadPassword(int(stdin.Fd()))
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

func totpCommand() *cobra.Command {
	totp := &cobra.Command{Use: "totp", Short: "Turns a user's second factor (TOTP) on or off"}
	enable := &cobra.Command{
		Use:   "enable <login>",
		Short: "Gives a user a TOTP secret and prints its otpauth:// URL once",
		Long: `Gives the user a new TOTP secret and prints its otpauth:// URL, alone, on
stdout, once: enter it into an authenticator app (or turn it into a QR
code, e.g. qrencode -t ansiutf8). From then on login asks for the app's
6-digit code. The secret is kept in the store (a TOTP verifier needs it),
so protect the store file like the secret itself.`,
		Args: cobra.ExactArgs(1),
		RunE: runE(func(_ *cobra.Command, t *cliTarget, args []string) error {
			var resp api.TOTPResponse
			if err := t.call("POST", adminPrefix+"users/"+url.PathEscape(args[0])+"/totp", struct{}{}, &resp); err != nil {
				return err
			}
			fmt.Println(resp.URL)
			fmt.Fprintf(os.Stderr, "TOTP enabled for %s; the URL above will not be shown again\n", resp.User.Login)
			return nil
		}),
	}
	disable := &cobra.Command{
		Use:   "disable <login>",
		Short: "Removes a user's TOTP secret",
		Args:  cobra.ExactArgs(1),
		RunE: runE(func(_ *cobra.Command, t *cliTarget, args []string) error {
			var resp api.TOTPResponse
			if err := t.call("DELETE", adminPrefix+"users/"+url.PathEscape(args[0])+"/totp", nil, &resp); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "TOTP disabled for %s\n", resp.User.Login)
			return nil
		}),
	}
	totp.AddCommand(enable, disable)
	return totp
}

func sessionCommand() *cobra.Command {
	session := &cobra.Command{Use: "session", Short: "Lists and revokes login sessions"}

	list := &cobra.Command{
		Use:   "list [--user <login>] [--json]",
		Short: "Lists browser and CLI sessions",
		Args:  cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, t *cliTarget, _ []string) error {
			uri := adminPrefix + "sessions"
			if u, _ := cmd.Flags().GetString("user"); u != "" {
				uri += "?user=" + url.QueryEscape(u)
			}
			var sessions []api.SessionInfo
			if err := t.call("GET", uri, nil, &sessions); err != nil {
				return err
			}
			if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
				return printJSON(sessions)
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tUSER\tKIND\tCREATED\tEXPIRES\tLAST SEEN\tIP\tSTATUS")
			for _, s := range sessions {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.User, s.Kind,
					s.Created.Format("2006-01-02 15:04"), s.Expires.Format("2006-01-02 15:04"),
					dateOr(s.LastSeen, "never"), s.IP, s.Status)
			}
			return tw.Flush()
		}),
	}
	list.Flags().String("user", "", "Only this user's sessions")
	list.Flags().Bool("json", false, "Print a JSON array")

	revoke := &cobra.Command{
		Use:   "revoke <id> | --user <login> --all",
		Short: "Ends a session, or every session of a user, at once",
		Args:  cobra.MaximumNArgs(1),
		RunE: runE(func(cmd *cobra.Command, t *cliTarget, args []string) error {
			login, _ := cmd.Flags().GetString("user")
			all, _ := cmd.Flags().GetBool("all")
			switch {
			case len(args) == 1 && login == "" && !all:
				var v api.SessionInfo
				if err := t.call("DELETE", adminPrefix+"sessions/"+url.PathEscape(args[0]), nil, &v); err != nil {
					return err
				}
				fmt.Fprintf(os.Stderr, "revoked session %s of %s\n", v.ID, v.User)
				return nil
			case len(args) == 0 && login != "" && all:
				var resp api.RevokeSessionsResponse
				if err := t.call("DELETE", adminPrefix+"users/"+url.PathEscape(login)+"/sessions", nil, &resp); err != nil {
					return err
				}
				fmt.Fprintf(os.Stderr, "revoked %d session(s) of %s\n", resp.Revoked, resp.User)
				return nil
			}
			return errors.New("give a session id, or --user <login> --all")
		}),
	}
	revoke.Flags().String("user", "", "The user whose sessions to end (with --all)")
	revoke.Flags().Bool("all", false, "End every session of --user (log out everywhere)")

	session.AddCommand(list, revoke)
	return session
}
