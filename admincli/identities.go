package admincli

import (
	"fmt"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/api"
)

const linkLong = `Links an existing account to an identity provider's subject (the "sub"
claim of an OpenID Connect provider, the numeric user id at GitHub), so
that the person signs in to that account through the provider. Gatehouse
never links an account by email on its own: this is the only way an
existing local account gains a provider sign-in. A subject linked to
another account is refused.`

func linkIdentity(cmd *cobra.Command, t Target, args []string) error {
	var link api.IdentityLink
	req := api.IdentityLinkRequest{User: args[0], Provider: args[1], Subject: args[2]}
	if err := t.Call("PUT", api.AdminPrefix+"identities", req, &link); err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "%s signs in through %s as subject %s\n", link.User, link.Provider, link.Subject)
	return nil
}

func unlinkIdentity(cmd *cobra.Command, t Target, args []string) error {
	req := api.IdentityLinkRequest{Provider: args[0], Subject: args[1]}
	if err := t.Call("DELETE", api.AdminPrefix+"identities", req, nil); err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "%s subject %s is no longer linked\n", args[0], args[1])
	return nil
}

func listIdentities(cmd *cobra.Command, t Target, args []string) error {
	uri := api.AdminPrefix + "identities"
	if len(args) == 1 {
		uri += "?user=" + url.QueryEscape(args[0])
	}
	var links []api.IdentityLink
	if err := t.Call("GET", uri, nil, &links); err != nil {
		return err
	}
	if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
		return printJSON(cmd.OutOrStdout(), links)
	}
	tw := table(cmd.OutOrStdout())
	fmt.Fprintln(tw, "USER\tPROVIDER\tSUBJECT\tLINKED")
	for _, l := range links {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", l.User, l.Provider, l.Subject, l.Linked.UTC().Format("2006-01-02 15:04 UTC"))
	}
	return tw.Flush()
}
