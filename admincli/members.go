package admincli

import (
	"fmt"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/api"
)

const memberLong = `Manages memberships: a user's role on one resource of a type declared
with "resource <type> <roles…>" in the gatehouse global option. A change
applies to the user's next request, with every token and session they hold:
a token's effective role is the lower of its cap and the membership.`

func setMember(cmd *cobra.Command, t Target, args []string) error {
	var c api.MembershipChange
	req := api.MembershipRequest{User: args[0], Type: args[1], Name: args[2], Role: args[3]}
	if err := t.Call("PUT", api.AdminPrefix+"members", req, &c); err != nil {
		return err
	}
	switch c.Previous {
	case "":
		fmt.Fprintf(cmd.ErrOrStderr(), "%s is now %s on %s\n", c.User, c.Role, c.Resource)
	case c.Role:
		fmt.Fprintf(cmd.ErrOrStderr(), "%s already was %s on %s; nothing changed\n", c.User, c.Role, c.Resource)
	default:
		fmt.Fprintf(cmd.ErrOrStderr(), "%s is now %s on %s (was %s)\n", c.User, c.Role, c.Resource, c.Previous)
	}
	return nil
}

func removeMember(cmd *cobra.Command, t Target, args []string) error {
	var c api.MembershipChange
	req := api.MembershipRequest{User: args[0], Type: args[1], Name: args[2]}
	if err := t.Call("DELETE", api.AdminPrefix+"members", req, &c); err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "%s no longer has a role on %s (was %s)\n", c.User, c.Resource, c.Previous)
	return nil
}

func listMembers(cmd *cobra.Command, t Target, args []string) error {
	uri := api.AdminPrefix + "members"
	if len(args) == 1 {
		uri += "?user=" + url.QueryEscape(args[0])
	}
	var members []api.Membership
	if err := t.Call("GET", uri, nil, &members); err != nil {
		return err
	}
	if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
		return printJSON(cmd.OutOrStdout(), members)
	}
	tw := table(cmd.OutOrStdout())
	fmt.Fprintln(tw, "USER\tTYPE\tNAME\tROLE")
	for _, m := range members {
		role := m.Role
		if !m.Declared {
			role += " (not declared: grants nothing)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.User, m.Type, m.Name, role)
	}
	return tw.Flush()
}
