package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/client"
)

func (a *app) logoutCmd() *cobra.Command {
	var server string
	cmd := &cobra.Command{
		Use:   "logout [-s HOST]",
		Short: "Revoke the stored token on the server and forget it",
		Long: `Revoke the token stored for a server (the default one unless -s is given)
and remove it from hosts.yml. When the server cannot be reached, the token
is removed locally anyway, with a warning: it then stays valid on the
server until it expires or is revoked there.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.logout(cmd.Context(), server) },
	}
	cmd.Flags().StringVarP(&server, "server", "s", "", "the server to log out of, as `HOST[:PORT]` or a URL")
	return cmd
}

// logout runs `auth logout`.
func (a *app) logout(ctx context.Context, server string) error {
	store, hf, err := a.loadHosts()
	if err != nil {
		return err
	}
	key, h, err := hf.Resolve(server, cliName)
	if err != nil {
		return err
	}
	name := client.DisplayHost(key)

	_, err = a.client(key, h).Revoke(ctx)
	var ae *client.AuthError
	switch {
	case err == nil:
		fmt.Fprintf(a.stdout, "✓ Revoked token %s on %s\n", h.Hint(), name)
	case errors.As(err, &ae):
		// Refused already: there is nothing left to revoke.
		a.warnf("%s already refuses the token %s (%s); nothing to revoke", name, h.Hint(), ae.Description)
	case ctx.Err() != nil:
		return fmt.Errorf("logout of %s cancelled; nothing was changed", name)
	default:
		a.warnf("could not revoke the token %s: %v", h.Hint(), err)
		a.warnf("it stays valid on %s until it expires or is revoked there; removing it locally anyway", name)
	}

	removed := false
	err = store.Update(ctx, func(f *client.HostsFile) error {
		// Another command may have logged in again meanwhile: only
		// forget the token that was revoked.
		if cur := f.Host(key); cur != nil && cur.Token == h.Token {
			removed = f.RemoveHost(key)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !removed {
		a.warnf("hosts.yml holds a newer token for %s, which was kept", name)
		return nil
	}
	fmt.Fprintf(a.stdout, "✓ Logged out of %s\n", name)
	return nil
}
