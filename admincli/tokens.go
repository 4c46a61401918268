package admincli

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/config"
)

const tokenCreateLong = `Creates a personal access token. The token is printed once, alone on
stdout, so TOKEN=$(caddy gatehouse token create …) works; details go to
stderr. The store keeps only its hash.`

func createToken(cmd *cobra.Command, t Target, _ []string) error {
	fl := cmd.Flags()
	req := api.CreateTokenRequest{}
	req.User, _ = fl.GetString("user")
	req.Name, _ = fl.GetString("name")
	req.ExpiresDays, _ = fl.GetInt("expires-days")
	req.NoExpiry, _ = fl.GetBool("no-expiry")
	scopes, _ := fl.GetString("scopes")
	req.Scopes = config.ParseScopeList(scopes)
	if req.User == "" {
		return fmt.Errorf("--user is required")
	}
	if req.Name == "" {
		req.Name = "cli-" + time.Now().Format("20060102-150405")
	}
	if err := resourceFlags(cmd, &req); err != nil {
		return err
	}
	var resp api.CreateTokenResponse
	if err := t.Call("POST", api.AdminPrefix+"tokens", req, &resp); err != nil {
		return err
	}
	fmt.Fprintln(cmd.OutOrStdout(), resp.Token)
	expires := "never"
	if resp.Info.Expires != nil {
		expires = resp.Info.Expires.Format(time.RFC3339)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "created token %s (%s) for %s: scopes %s, expires %s; it will not be shown again\n",
		resp.Info.ID, resp.Info.Name, resp.Info.User, strings.Join(resp.Info.Scopes, " "), expires)
	return nil
}

// resourceFlags reads --resources and --all-resources into req.
func resourceFlags(cmd *cobra.Command, req *api.CreateTokenRequest) error {
	spec, _ := cmd.Flags().GetString("resources")
	all, _ := cmd.Flags().GetBool("all-resources")
	if spec == "" {
		return nil
	}
	if all {
		return fmt.Errorf("give --resources or --all-resources, not both")
	}
	caps, err := config.ParseResourceCaps(spec)
	if err != nil {
		return fmt.Errorf("--resources: %w", err)
	}
	req.Resources = caps
	return nil
}

func listTokens(cmd *cobra.Command, t Target, _ []string) error {
	uri := api.AdminPrefix + "tokens"
	if u, _ := cmd.Flags().GetString("user"); u != "" {
		uri += "?user=" + url.QueryEscape(u)
	}
	var tokens []api.TokenInfo
	if err := t.Call("GET", uri, nil, &tokens); err != nil {
		return err
	}
	if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
		return printJSON(cmd.OutOrStdout(), tokens)
	}
	tw := table(cmd.OutOrStdout())
	fmt.Fprintln(tw, "ID\tUSER\tNAME\tHINT\tSCOPES\tCREATED\tEXPIRES\tLAST USED\tSTATUS")
	for _, v := range tokens {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.ID, v.User, v.Name, v.Hint,
			strings.Join(v.Scopes, ","), v.Created.Format("2006-01-02"), dateOr(v.Expires, "never"),
			dateOr(v.LastUsed, "never"), v.Status)
	}
	return tw.Flush()
}

func revokeToken(cmd *cobra.Command, t Target, args []string) error {
	var v api.TokenInfo
	if err := t.Call("DELETE", api.AdminPrefix+"tokens/"+url.PathEscape(args[0]), nil, &v); err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "revoked token %s (%s) of %s\n", v.ID, v.Name, v.User)
	return nil
}
