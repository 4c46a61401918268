package main

import (
	"github.com/spf13/cobra"
)

// authCmd is `gatehouse auth`: login, status, logout, switch, token.
func (a *app) authCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "auth",
		Short: "Log in, check and log out",
		Args:  noArgs,
	}
	cmd.AddCommand(a.loginCmd(), a.statusCmd(), a.logoutCmd(), a.switchCmd(), a.tokenCmd())
	return cmd
}
