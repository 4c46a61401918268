package caddymodule

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/config"
)

func init() {
	commandGroups = append(commandGroups, userCommand)
}

// userSubcommands are `caddy gatehouse user …` verbs registered by the
// files that own them (passwords, TOTP, memberships).
var userSubcommands []func() *cobra.Command

func userCommand() *cobra.Command {
	user := &cobra.Command{Use: "user", Short: "Manages users"}

	add := &cobra.Command{
		Use:   "add <login>",
		Short: "Creates a user",
		Args:  cobra.ExactArgs(1),
		RunE: runE(func(cmd *cobra.Command, t *cliTarget, args []string) error {
			tier, _ := cmd.Flags().GetString("tier")
			req := api.CreateUserRequest{Login: args[0], Tier: tier}
			if s, _ := cmd.Flags().GetString("scopes"); s != "" {
				req.Scopes = config.ParseScopeList(s)
			}
			var u api.UserInfo
			if err := t.call("POST", adminPrefix+"users", req, &u); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "created user %s (%s), tier %s\n", u.Login, u.ID, u.Tier)
			return nil
		}),
	}
	add.Flags().String("tier", "", "Rate-limit tier (default: the default tier)")
	add.Flags().String("scopes", "", "Comma-separated scopes the user may hold (default: all)")

	list := &cobra.Command{
		Use:   "list",
		Short: "Lists users",
		Args:  cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, t *cliTarget, _ []string) error {
			var users []api.UserInfo
			if err := t.call("GET", adminPrefix+"users", nil, &users); err != nil {
				return err
			}
			if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
				return printJSON(users)
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
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
		}),
	}
	list.Flags().Bool("json", false, "Print a JSON array")

	setState := func(verb, short string) *cobra.Command {
		return &cobra.Command{
			Use:   verb + " <login>",
			Short: short,
			Args:  cobra.ExactArgs(1),
			RunE: runE(func(_ *cobra.Command, t *cliTarget, args []string) error {
				var u api.UserInfo
				if err := t.call("POST", adminPrefix+"users/"+url.PathEscape(args[0])+"/"+verb, struct{}{}, &u); err != nil {
					return err
				}
				fmt.Fprintf(os.Stderr, "user %s %sd\n", u.Login, verb)
				return nil
			}),
		}
	}

	setTier := &cobra.Command{
		Use:   "set-tier <login> <tier>",
		Short: "Moves a user to another rate-limit tier",
		Args:  cobra.ExactArgs(2),
		RunE: runE(func(_ *cobra.Command, t *cliTarget, args []string) error {
			var u api.UserInfo
			if err := t.call("POST", adminPrefix+"users/"+url.PathEscape(args[0])+"/tier", api.SetTierRequest{Tier: args[1]}, &u); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "user %s is now on tier %s\n", u.Login, u.Tier)
			return nil
		}),
	}

	user.AddCommand(add, list,
		setState("disable", "Disables a user: their tokens and sessions stop working at once"),
		setState("enable", "Enables a disabled user"),
		setTier)
	for _, sub := range userSubcommands {
		user.AddCommand(sub())
	}
	return user
}
