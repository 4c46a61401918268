package admincli

import (
	"fmt"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/api"
)

// backupStore streams the store's copy into a new file, which it removes
// again when the server refuses.
func backupStore(cmd *cobra.Command, t Target, args []string) error {
	f, err := os.OpenFile(args[0], os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := t.Call("POST", api.AdminPrefix+"store/backup", struct{}{}, f); err != nil {
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
	fmt.Fprintf(cmd.ErrOrStderr(), "backed up the store to %s\n", args[0])
	return nil
}

func checkStore(cmd *cobra.Command, t Target, _ []string) error {
	var res api.StoreCheck
	if err := t.Call("GET", api.AdminPrefix+"store/check", nil, &res); err != nil {
		return err
	}
	for _, p := range res.Problems {
		fmt.Fprintln(cmd.OutOrStdout(), p)
	}
	if len(res.Problems) > 0 {
		return fmt.Errorf("%s: %d problems", res.Store, len(res.Problems))
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "%s: ok\n", res.Store)
	return nil
}

const rotateKeyLong = `Replaces the key that signs session JWTs (browser cookies, CLI access
tokens) with a new one and deletes the old keys, so a key that leaked (a
copied store file or backup) signs nothing any more. Every session JWT
signed before is refused: browsers log in again, and CLI sessions get a new
access token with their refresh token. PATs are not affected.

With --assertion, replaces instead the key that signs the identity
assertions handed to upstreams (Gatehouse-Assertion). New assertions are
signed with the new key at once; the old key stays in the JWKS for the
overlap, so upstreams keep verifying what it signed.`

func rotateKey(cmd *cobra.Command, t Target, _ []string) error {
	if a, _ := cmd.Flags().GetBool("assertion"); a {
		return rotateAssertionKey(cmd, t)
	}
	for _, f := range []string{"alg", "overlap"} {
		if cmd.Flags().Changed(f) {
			return fmt.Errorf("--%s goes with --assertion", f)
		}
	}
	var res api.RotateKeyResponse
	if err := t.Call("POST", api.AdminPrefix+"store/rotate-key", nil, &res); err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "new session signing key %s; the old keys are deleted, so browsers log in again\n", res.KeyID)
	return nil
}

func showAudit(cmd *cobra.Command, t Target, _ []string) error {
	q := url.Values{}
	if u, _ := cmd.Flags().GetString("user"); u != "" {
		q.Set("user", u)
	}
	limit, _ := cmd.Flags().GetInt("limit")
	q.Set("limit", strconv.Itoa(limit))
	var events []api.AuditEvent
	if err := t.Call("GET", api.AdminPrefix+"audit?"+q.Encode(), nil, &events); err != nil {
		return err
	}
	if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
		return printJSON(cmd.OutOrStdout(), events)
	}
	tw := table(cmd.OutOrStdout())
	fmt.Fprintln(tw, "TIME\tACTION\tACTOR\tUSER\tTOKEN\tIP\tDETAIL")
	for _, e := range events {
		actor := e.Actor.Kind
		if e.Actor.UserID != "" {
			actor += ":" + e.Actor.UserID
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.Format(time.RFC3339), e.Action, actor, e.UserID, e.TokenID, e.Actor.IP, e.Detail)
	}
	return tw.Flush()
}

func showStatus(cmd *cobra.Command, t Target, _ []string) error {
	var st api.Status
	if err := t.Call("GET", api.AdminPrefix+"status", nil, &st); err != nil {
		return err
	}
	tw := table(cmd.OutOrStdout())
	fmt.Fprintf(tw, "store\t%s\nvia\t%s\nusers\t%d\ntokens\t%d\ntoken prefix\t%s\n", st.Store, t.Where(), st.Users, st.Tokens, st.TokenPrefix)
	return tw.Flush()
}

// showStoreStatus is `store status`: the engine and, in fleet mode, the
// mirror's applied revision, staleness, outbox and the edge registry.
func showStoreStatus(cmd *cobra.Command, t Target, _ []string) error {
	var st api.Status
	if err := t.Call("GET", api.AdminPrefix+"status", nil, &st); err != nil {
		return err
	}
	if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
		return printJSON(cmd.OutOrStdout(), st)
	}
	tw := table(cmd.OutOrStdout())
	engine := st.Engine
	if engine == "" {
		engine = "bbolt"
	}
	f := st.Fleet
	if f == nil {
		fmt.Fprintf(tw, "engine\t%s\nstore\t%s\n", engine, st.Store)
		return tw.Flush()
	}
	stale := ""
	if f.Stale {
		stale = " (past max_staleness)"
	}
	fmt.Fprintf(tw, "engine\t%s\nedge\t%s\nendpoints\t%v\nprefix\t%s\nmirror\t%s\napplied revision\t%d\nknown revision\t%d\nstaleness\t%s%s\nresyncs\t%d\nconflicts\t%d\noutbox\t%d\n",
		engine, f.EdgeID, f.Endpoints, f.Prefix, st.Store, f.Applied, f.Known, time.Duration(f.StalenessMS)*time.Millisecond, stale, f.Resyncs, f.Conflicts, f.Outbox)
	if err := tw.Flush(); err != nil {
		return err
	}
	tw = table(cmd.OutOrStdout())
	fmt.Fprintln(tw, "EDGE\tVERSION\tAPPLIED\tSTARTED\tUPDATED")
	for _, e := range f.Edges {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", e.ID, e.Version, e.Applied, e.Started.Format(time.RFC3339), e.Updated.Format(time.RFC3339))
	}
	return tw.Flush()
}

func rotateAssertionKey(cmd *cobra.Command, t Target) error {
	var req api.RotateAssertionKeyRequest
	req.Alg, _ = cmd.Flags().GetString("alg")
	req.Overlap, _ = cmd.Flags().GetString("overlap")
	var res api.RotateKeyResponse
	if err := t.Call("POST", api.AdminPrefix+"store/rotate-key/assertion", req, &res); err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "new assertion signing key %s; the old one stays published for the overlap\n", res.KeyID)
	return nil
}

func listKeys(cmd *cobra.Command, t Target, _ []string) error {
	var keys []api.AssertionKey
	if err := t.Call("GET", api.AdminPrefix+"keys", nil, &keys); err != nil {
		return err
	}
	if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
		return printJSON(cmd.OutOrStdout(), keys)
	}
	tw := table(cmd.OutOrStdout())
	fmt.Fprintln(tw, "KEY ID\tALG\tCREATED\tSTATE")
	for _, k := range keys {
		state := "current"
		switch {
		case k.RetiredAt != nil && k.Published:
			state = "retired, published until " + k.PublishUntil.UTC().Format(time.RFC3339)
		case k.RetiredAt != nil:
			state = "retired, unpublished"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.KeyID, k.Alg, k.CreatedAt.UTC().Format(time.RFC3339), state)
	}
	return tw.Flush()
}
