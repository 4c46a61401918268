package caddymodule

import (
	"fmt"
	"net/url"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/api"
)

func init() {
	commandGroups = append(commandGroups, storeCommand, auditCommand, statusCommand)
}

// storeSubcommands are `caddy gatehouse store …` verbs registered by the
// files that own them (signing keys).
var storeSubcommands []func() *cobra.Command

func storeCommand() *cobra.Command {
	store := &cobra.Command{Use: "store", Short: "Backs up and checks the store"}
	backup := &cobra.Command{
		Use:   "backup <file>",
		Short: "Writes a consistent copy of the store, even while Caddy runs",
		Args:  cobra.ExactArgs(1),
		RunE: runE(func(_ *cobra.Command, t *cliTarget, args []string) error {
			f, err := os.OpenFile(args[0], os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return fmt.Errorf("backup: %w", err)
			}
			if err := t.call("POST", adminPrefix+"store/backup", struct{}{}, f); err != nil {
				f.Close()
				os.Remove(args[0])
				return err
			}
			if err := f.Sync(); err != nil {
				f.Close()
				return fmt.Errorf("backup: %w", err)
			}
			if err := f.Close(); err != nil {
				return fmt.Errorf("backup: %w", err)
			}
			fmt.Fprintf(os.Stderr, "backed up the store to %s\n", args[0])
			return nil
		}),
	}
	check := &cobra.Command{
		Use:   "check",
		Short: "Checks the store's structure and indexes",
		Args:  cobra.NoArgs,
		RunE: runE(func(_ *cobra.Command, t *cliTarget, _ []string) error {
			var res api.StoreCheck
			if err := t.call("GET", adminPrefix+"store/check", nil, &res); err != nil {
				return err
			}
			for _, p := range res.Problems {
				fmt.Println(p)
			}
			if len(res.Problems) > 0 {
				return fmt.Errorf("%s: %d problems", res.Store, len(res.Problems))
			}
			fmt.Fprintf(os.Stderr, "%s: ok\n", res.Store)
			return nil
		}),
	}
	store.AddCommand(backup, check)
	for _, sub := range storeSubcommands {
		store.AddCommand(sub())
	}
	return store
}

func auditCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit [--user <login>] [--limit N]",
		Short: "Shows the audit trail, newest first",
		Args:  cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, t *cliTarget, _ []string) error {
			q := url.Values{}
			if u, _ := cmd.Flags().GetString("user"); u != "" {
				q.Set("user", u)
			}
			limit, _ := cmd.Flags().GetInt("limit")
			q.Set("limit", strconv.Itoa(limit))
			var events []api.AuditEvent
			if err := t.call("GET", adminPrefix+"audit?"+q.Encode(), nil, &events); err != nil {
				return err
			}
			if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
				return printJSON(events)
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TIME\tACTION\tACTOR\tUSER\tTOKEN\tIP\tDETAIL")
			for _, e := range events {
				actor := e.Actor.Kind
				if e.Actor.UserID != "" {
					actor += ":" + e.Actor.UserID
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.Format(time.RFC3339), e.Action, actor, e.UserID, e.TokenID, e.Actor.IP, e.Detail)
			}
			return tw.Flush()
		}),
	}
	cmd.Flags().String("user", "", "Only events about this user")
	cmd.Flags().Int("limit", 50, "How many events")
	cmd.Flags().Bool("json", false, "Print a JSON array")
	return cmd
}

func statusCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Shows which store the commands use and what it holds",
		Args:  cobra.NoArgs,
		RunE: runE(func(_ *cobra.Command, t *cliTarget, _ []string) error {
			var st api.Status
			if err := t.call("GET", adminPrefix+"status", nil, &st); err != nil {
				return err
			}
			via := "opened directly (no running server)"
			if t.remote != "" {
				via = "through the running server at " + t.remote
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "store\t%s\nvia\t%s\nusers\t%d\ntokens\t%d\ntoken prefix\t%s\n", st.Store, via, st.Users, st.Tokens, st.TokenPrefix)
			return tw.Flush()
		}),
	}
}
