package admincli

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/api"
)

func listSessions(cmd *cobra.Command, t Target, _ []string) error {
	uri := api.AdminPrefix + "sessions"
	if u, _ := cmd.Flags().GetString("user"); u != "" {
		uri += "?user=" + url.QueryEscape(u)
	}
	var sessions []api.SessionInfo
	if err := t.Call("GET", uri, nil, &sessions); err != nil {
		return err
	}
	if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
		return printJSON(cmd.OutOrStdout(), sessions)
	}
	tw := table(cmd.OutOrStdout())
	fmt.Fprintln(tw, "ID\tUSER\tKIND\tCREATED\tEXPIRES\tLAST SEEN\tIP\tSTATUS")
	for _, s := range sessions {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.User, s.Kind,
			s.Created.Format("2006-01-02 15:04"), s.Expires.Format("2006-01-02 15:04"),
			dateOr(s.LastSeen, "never"), s.IP, s.Status)
	}
	return tw.Flush()
}

// revokeSessions ends one session (by id) or, with --user and --all,
// every session of a user.
func revokeSessions(cmd *cobra.Command, t Target, args []string) error {
	login, _ := cmd.Flags().GetString("user")
	all, _ := cmd.Flags().GetBool("all")
	switch {
	case len(args) == 1 && login == "" && !all:
		var v api.SessionInfo
		if err := t.Call("DELETE", api.AdminPrefix+"sessions/"+url.PathEscape(args[0]), nil, &v); err != nil {
			return err
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "revoked session %s of %s\n", v.ID, v.User)
		return nil
	case len(args) == 0 && login != "" && all:
		var resp api.RevokeSessionsResponse
		if err := t.Call("DELETE", userURI(login, "sessions"), nil, &resp); err != nil {
			return err
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "revoked %d session(s) of %s\n", resp.Revoked, resp.User)
		return nil
	}
	return errors.New("give a session id, or --user <login> --all")
}
