package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/client"
)

// configKeys are the settings `config` knows.
var configKeys = []string{"server"}

func (a *app) configCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Read and change settings",
		Long: `Settings live in hosts.yml beside the tokens. The only one is:

  server   the default server, used when -s is not given and several
           servers are stored`,
		Args: noArgs,
	}
	cmd.AddCommand(&cobra.Command{
		Use:     "set KEY VALUE",
		Short:   "Change a setting",
		Long:    "Change a setting. `config set server -` goes back to the previous default server.",
		Example: "  gatehouse config set server example.com\n  gatehouse config set server -",
		Args:    exactArgs(2, "KEY and VALUE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] != "server" {
				return usageError{fmt.Errorf("unknown setting %q; known: %v", args[0], configKeys)}
			}
			return a.setServer(cmd, args[1])
		},
	}, &cobra.Command{
		Use:   "get KEY",
		Short: "Print a setting",
		Args:  exactArgs(1, "KEY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] != "server" {
				return usageError{fmt.Errorf("unknown setting %q; known: %v", args[0], configKeys)}
			}
			return a.getServer()
		},
	})
	return cmd
}

// setServer runs `config set server HOST`.
func (a *app) setServer(cmd *cobra.Command, server string) error {
	back := server == "-"
	key := ""
	if !back {
		k, err := client.NormalizeHost(server)
		if err != nil {
			return usageError{err}
		}
		key = k
	}
	store, err := a.store()
	if err != nil {
		return err
	}
	stored := false
	err = store.Update(cmd.Context(), func(f *client.HostsFile) error {
		if back {
			if f.PreviousServer == "" {
				return usageError{fmt.Errorf("no previous default server to go back to")}
			}
			key = f.PreviousServer
		}
		if f.DefaultServer != key {
			f.PreviousServer = f.DefaultServer
		}
		f.DefaultServer = key
		stored = f.Host(key) != nil
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "✓ Default server is now %s\n", client.DisplayHost(key))
	if !stored {
		a.warnf("no token is stored for %s yet; run: %s auth login -s %s", client.DisplayHost(key), cliName, client.DisplayHost(key))
	}
	return nil
}

// getServer runs `config get server`: the chosen default, or nothing.
func (a *app) getServer() error {
	_, hf, err := a.loadHosts()
	if err != nil {
		return err
	}
	if hf.DefaultServer != "" {
		fmt.Fprintln(a.stdout, client.DisplayHost(hf.DefaultServer))
	}
	return nil
}
