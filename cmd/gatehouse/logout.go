package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/client"
)

func (a *app) logoutCmd() *cobra.Command {
	var server, user string
	cmd := &cobra.Command{
		Use:   "logout [-s HOST] [-u USER]",
		Short: "End the stored credential on the server and forget it",
		Long: `Revoke the token (or end the session) of an account of a server (the
active account of the default server unless -s and -u say otherwise) and
remove it from hosts.yml and the keychain. When the server cannot be
reached, it is removed locally anyway, with a warning: it then stays
valid on the server until it expires or is revoked there. When other
accounts of the server remain, the first becomes the active one.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.logout(cmd.Context(), server, user) },
	}
	cmd.Flags().StringVarP(&server, "server", "s", "", "the server to log out of, as `HOST[:PORT]` or a URL")
	cmd.Flags().StringVarP(&user, "user", "u", "", "the account to log out (`LOGIN`); default: the active one")
	return cmd
}

// logout runs `auth logout`.
func (a *app) logout(ctx context.Context, server, user string) error {
	store, hf, err := a.loadHosts()
	if err != nil {
		return err
	}
	key, acct, err := hf.ResolveAccount(server, user, cliName)
	if err != nil {
		return err
	}
	name := client.DisplayHost(key)
	c := a.clientFor(key, hf.Host(key), acct)

	what := "token " + acct.Hint()
	if acct.IsSession() {
		what = "session " + acct.SessionID
	}
	switch {
	case acct.State == client.StateInvalidated:
		a.warnf("the %s was already invalidated on %s; nothing to end", what, name)
	default:
		if acct.IsSession() {
			_, err = c.Logout(ctx)
		} else {
			_, err = c.Revoke(ctx)
		}
		var ae *client.AuthError
		switch {
		case err == nil:
			verb := "Revoked"
			if acct.IsSession() {
				verb = "Ended"
			}
			fmt.Fprintf(a.stdout, "✓ %s %s on %s\n", verb, what, name)
		case errors.As(err, &ae), errors.Is(err, client.ErrSessionInvalidated):
			// Refused already: there is nothing left to end.
			desc := err.Error()
			if ae != nil {
				desc = ae.Description
			}
			a.warnf("%s already refuses the %s (%s); nothing to revoke", name, what, desc)
		case ctx.Err() != nil:
			return fmt.Errorf("logout of %s cancelled; nothing was changed", name)
		default:
			verb := "revoke"
			if acct.IsSession() {
				verb = "end"
			}
			a.warnf("could not %s the %s: %v", verb, what, err)
			a.warnf("it stays valid on %s until it expires or is revoked there; removing it locally anyway", name)
		}
	}

	removed := false
	err = store.Update(ctx, func(f *client.HostsFile) error {
		// Another command may have logged in again meanwhile: only
		// forget the account that was ended (a session may have been
		// refreshed meanwhile: same session).
		cur := f.Host(key).Account(acct.User)
		if cur != nil && (cur.Token == acct.Token || (acct.IsSession() && cur.SessionID == acct.SessionID)) {
			removed = f.RemoveAccount(key, acct.User)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !removed {
		a.warnf("hosts.yml holds a newer credential for %s, which was kept", name)
		return nil
	}
	who := ""
	if acct.User != "" {
		who = " as " + acct.User
	}
	fmt.Fprintf(a.stdout, "✓ Logged out of %s%s\n", name, who)
	return nil
}
