package caddymodule

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/config"
)

func init() {
	commandGroups = append(commandGroups, tokenCommand)
}

func tokenCommand() *cobra.Command {
	token := &cobra.Command{Use: "token", Short: "Manages personal access tokens"}

	create := &cobra.Command{
		Use:   "create --user <login> --scopes a,b --expires-days N --name <name>",
		Short: "Creates a PAT and prints it, alone, on stdout",
		Long: `Creates a personal access token. The token is printed once, alone on
stdout, so TOKEN=$(caddy gatehouse token create …) works; details go to
stderr. The store keeps only its hash.`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, t *cliTarget, _ []string) error {
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
			if err := t.call("POST", adminPrefix+"tokens", req, &resp); err != nil {
				return err
			}
			fmt.Println(resp.Token)
			expires := "never"
			if resp.Info.Expires != nil {
				expires = resp.Info.Expires.Format(time.RFC3339)
			}
			fmt.Fprintf(os.Stderr, "created token %s (%s) for %s: scopes %s, expires %s; it will not be shown again\n",
				resp.Info.ID, resp.Info.Name, resp.Info.User, strings.Join(resp.Info.Scopes, " "), expires)
			return nil
		}),
	}
	cf := create.Flags()
	cf.String("user", "", "Owner's login (required)")
	cf.String("scopes", "", "Comma-separated scopes (required)")
	cf.Int("expires-days", 0, "Lifetime in days, 1 to pat_max_days (required unless --no-expiry)")
	cf.Bool("no-expiry", false, "Never expires (only where pat_allow_no_expiry is set)")
	cf.String("name", "", "A name to recognise the token by")
	cf.String("resources", "", "Per-resource caps, e.g. project:atlas=read,project:zoo=edit")
	cf.Bool("all-resources", false, "Every resource at the owner's membership role (the default)")

	list := &cobra.Command{
		Use:   "list [--user <login>] [--json]",
		Short: "Lists tokens (never the tokens themselves)",
		Args:  cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, t *cliTarget, _ []string) error {
			uri := adminPrefix + "tokens"
			if u, _ := cmd.Flags().GetString("user"); u != "" {
				uri += "?user=" + url.QueryEscape(u)
			}
			var tokens []api.TokenInfo
			if err := t.call("GET", uri, nil, &tokens); err != nil {
				return err
			}
			if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
				return printJSON(tokens)
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tUSER\tNAME\tHINT\tSCOPES\tCREATED\tEXPIRES\tLAST USED\tSTATUS")
			for _, v := range tokens {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.ID, v.User, v.Name, v.Hint,
					strings.Join(v.Scopes, ","), v.Created.Format("2006-01-02"), dateOr(v.Expires, "never"),
					dateOr(v.LastUsed, "never"), v.Status)
			}
			return tw.Flush()
		}),
	}
	list.Flags().String("user", "", "Only this user's tokens")
	list.Flags().Bool("json", false, "Print a JSON array")

	revoke := &cobra.Command{
		Use:   "revoke <id>",
		Short: "Revokes a token; the next request with it is refused",
		Args:  cobra.ExactArgs(1),
		RunE: runE(func(_ *cobra.Command, t *cliTarget, args []string) error {
			var v api.TokenInfo
			if err := t.call("DELETE", adminPrefix+"tokens/"+url.PathEscape(args[0]), nil, &v); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "revoked token %s (%s) of %s\n", v.ID, v.Name, v.User)
			return nil
		}),
	}

	token.AddCommand(create, list, revoke)
	return token
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

func dateOr(t *time.Time, none string) string {
	if t == nil {
		return none
	}
	return t.Format("2006-01-02 15:04")
}

func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
