package caddymodule

import (
	"fmt"
	"net/url"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/api"
)

func init() {
	commandGroups = append(commandGroups, memberCommand)
}

func memberCommand() *cobra.Command {
	member := &cobra.Command{
		Use:   "member",
		Short: "Manages users' roles on resources (project atlas: edit)",
		Long: `Manages memberships: a user's role on one resource of a type declared
with "resource <type> <roles…>" in the gatehouse global option. A change
applies to the user's next request, with every token and session they hold:
a token's effective role is the lower of its cap and the membership.`,
	}

	set := &cobra.Command{
		Use:   "set <login> <type> <name> <role>",
		Short: "Gives a user a role on a resource, replacing the role held there",
		Args:  cobra.ExactArgs(4),
		RunE: runE(func(_ *cobra.Command, t *cliTarget, args []string) error {
			var c api.MembershipChange
			req := api.MembershipRequest{User: args[0], Type: args[1], Name: args[2], Role: args[3]}
			if err := t.call("PUT", adminPrefix+"members", req, &c); err != nil {
				return err
			}
			switch c.Previous {
			case "":
				fmt.Fprintf(os.Stderr, "%s is now %s on %s\n", c.User, c.Role, c.Resource)
			case c.Role:
				fmt.Fprintf(os.Stderr, "%s already was %s on %s; nothing changed\n", c.User, c.Role, c.Resource)
			default:
				fmt.Fprintf(os.Stderr, "%s is now %s on %s (was %s)\n", c.User, c.Role, c.Resource, c.Previous)
			}
			return nil
		}),
	}

	remove := &cobra.Command{
		Use:   "remove <login> <type> <name>",
		Short: "Takes a user's role on a resource away",
		Args:  cobra.ExactArgs(3),
		RunE: runE(func(_ *cobra.Command, t *cliTarget, args []string) error {
			var c api.MembershipChange
			req := api.MembershipRequest{User: args[0], Type: args[1], Name: args[2]}
			if err := t.call("DELETE", adminPrefix+"members", req, &c); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "%s no longer has a role on %s (was %s)\n", c.User, c.Resource, c.Previous)
			return nil
		}),
	}

	list := &cobra.Command{
		Use:   "list [<login>] [--json]",
		Short: "Lists memberships, of one user or of everyone",
		Args:  cobra.MaximumNArgs(1),
		RunE: runE(func(cmd *cobra.Command, t *cliTarget, args []string) error {
			uri := adminPrefix + "members"
			if len(args) == 1 {
				uri += "?user=" + url.QueryEscape(args[0])
			}
			var members []api.Membership
			if err := t.call("GET", uri, nil, &members); err != nil {
				return err
			}
			if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
				return printJSON(members)
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "USER\tTYPE\tNAME\tROLE")
			for _, m := range members {
				role := m.Role
				if !m.Declared {
					role += " (not declared: grants nothing)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.User, m.Type, m.Name, role)
			}
			return tw.Flush()
		}),
	}
	list.Flags().Bool("json", false, "Print a JSON array")

	member.AddCommand(set, remove, list)
	return member
}
