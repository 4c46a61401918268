package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/client"
)

func (a *app) switchCmd() *cobra.Command {
	var server, user string
	cmd := &cobra.Command{
		Use:   "switch [-s HOST] [-u USER]",
		Short: "Make another stored account of a server the active one",
		Long: `Make the account USER of a server (the default one unless -s is given)
the one that commands use. With two accounts and no -u, the other one
becomes active.`,
		Example: `  gatehouse auth switch -u bob
  gatehouse auth switch -s example.com -u alice`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.switchAccount(cmd.Context(), server, user) },
	}
	cmd.Flags().StringVarP(&server, "server", "s", "", "the server, as `HOST[:PORT]` or a URL")
	cmd.Flags().StringVarP(&user, "user", "u", "", "the account to make active (`LOGIN`)")
	return cmd
}

// switchAccount runs `auth switch`.
func (a *app) switchAccount(ctx context.Context, server, user string) error {
	store, hf, err := a.loadHosts()
	if err != nil {
		return err
	}
	key, _, err := hf.Resolve(server, cliName)
	if err != nil && (key == "" || hf.Host(key) == nil) {
		return err
	}
	var active string
	err = store.Update(ctx, func(f *client.HostsFile) error {
		names := f.Host(key).AccountNames()
		target := user
		if target == "" {
			if len(names) != 2 {
				return usageError{fmt.Errorf("%s has %d accounts (%s); name one with -u USER", client.DisplayHost(key), len(names), strings.Join(names, ", "))}
			}
			target = names[1]
		}
		if err := f.Switch(key, target); err != nil {
			if errors.Is(err, client.ErrUnknownAccount) {
				return usageError{err}
			}
			return err
		}
		active = f.Host(key).User
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "✓ Switched the active account of %s to %s\n", client.DisplayHost(key), active)
	return nil
}

func (a *app) tokenCmd() *cobra.Command {
	var server, user string
	cmd := &cobra.Command{
		Use:   "token [-s HOST] [-u USER]",
		Short: "Print the active account's token, for scripts",
		Long: `Print the token of the active account of a server (or of USER) to
standard output, and nothing else: for a script that calls the API with
curl. A session's access token is refreshed first if it has expired, and
lives only minutes; a script that runs longer should call this again, or
use 'gatehouse api'.`,
		Example: `  curl -H "Authorization: Bearer $(gatehouse auth token)" https://example.com/v1/papers`,
		Args:    noArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return a.printToken(cmd.Context(), server, user) },
	}
	cmd.Flags().StringVarP(&server, "server", "s", "", "the server, as `HOST[:PORT]` or a URL")
	cmd.Flags().StringVarP(&user, "user", "u", "", "the account (`LOGIN`); default: the active one")
	return cmd
}

// printToken runs `auth token`.
func (a *app) printToken(ctx context.Context, server, user string) error {
	_, hf, err := a.loadHosts()
	if err != nil {
		return err
	}
	key, acct, err := hf.ResolveAccount(server, user, cliName)
	if err != nil {
		return err
	}
	c := a.clientFor(key, hf.Host(key), acct)
	token := acct.Token
	if c.Credentials != nil {
		tok, exp, err := c.Credentials.Token(ctx)
		if err != nil {
			return err
		}
		token = tok
		// Printed tokens are used later: renew one about to expire too.
		if !exp.IsZero() && time.Until(exp) <= client.RefreshAhead {
			if token, _, err = c.Credentials.Renew(ctx, tok); err != nil {
				return err
			}
		}
	}
	fmt.Fprintln(a.stdout, token)
	return nil
}
