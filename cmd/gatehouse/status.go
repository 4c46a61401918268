package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/client"
)

func (a *app) statusCmd() *cobra.Command {
	var server string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show each stored account, its credential and whether it still works",
		Long: `Show one line per stored account of each server (the active account of a
server with several is marked "active"): the user, the token's hint (or
the session), its scopes, its state and where its secret is stored.

The state is decided locally where what is stored says enough (invalidated,
expired), and checked with the server otherwise: logged in (valid until …,
expires in 3 days), expired, revoked, invalid; a session whose access token
has expired is refreshed to check it. A server that cannot be reached is
reported as offline, not checked, with what is stored. The exit status is 1
unless every account works.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.status(cmd.Context(), server) },
	}
	cmd.Flags().StringVarP(&server, "server", "s", "", "show only this `HOST`")
	return cmd
}

// hostStatus is the outcome of checking one account.
type hostStatus struct {
	line string
	ok   bool
}

// status runs `auth status`.
func (a *app) status(ctx context.Context, server string) error {
	_, hf, err := a.loadHosts()
	if err != nil {
		return err
	}
	keys := hf.SortedHosts()
	if server != "" {
		key, err := client.NormalizeHost(server)
		if err != nil {
			return err
		}
		if hf.Host(key) == nil {
			_, _, err := hf.Resolve(server, cliName)
			return err
		}
		keys = []string{key}
	}
	if len(keys) == 0 {
		return fmt.Errorf("not logged in to any server; run: %s auth login -s HOST", cliName)
	}
	defaultKey, _, _ := hf.Resolve("", cliName)

	type job struct {
		key, user string
		active    bool
	}
	var jobs []job
	for _, key := range keys {
		names := hf.Host(key).AccountNames()
		if len(names) == 0 {
			names = []string{""}
		}
		for i, u := range names {
			jobs = append(jobs, job{key: key, user: u, active: i == 0 && len(names) > 1})
		}
	}
	results := make([]hostStatus, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Go(func() {
			h := hf.Host(j.key)
			results[i] = a.checkAccount(ctx, j.key, h, h.Account(j.user), j.key == defaultKey, j.active)
		})
	}
	wg.Wait()
	allOK := true
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	for _, r := range results {
		fmt.Fprintln(tw, r.line)
		allOK = allOK && r.ok
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if !allOK {
		return errSilent
	}
	return nil
}

// checkAccount decides the state of one stored account, asking the
// server when what is stored does not say enough.
func (a *app) checkAccount(ctx context.Context, key string, h, acct *client.Host, isDefault, isActive bool) hostStatus {
	name := client.DisplayHost(key)
	if isDefault {
		name += " (default)"
	}
	line := func(mark, user, hint string, scopes []string, state string) string {
		if user == "" {
			user = "?"
		}
		if isActive {
			user += " (active)"
		}
		where := ""
		if acct != nil {
			where = "\t[" + storageText(acct) + "]"
		}
		return fmt.Sprintf("%s %s\t%s\t%s\t%s\t%s%s", mark, name, user, hint, scopesText(scopes), state, where)
	}
	fix := fmt.Sprintf("; run: %s auth login -s %s", cliName, client.DisplayHost(key))
	if acct == nil || (acct.Token == "" && acct.RefreshToken == "" && acct.SecretError() == nil) {
		return hostStatus{line: line("✗", "", "(none)", nil, "never logged in"+fix)}
	}
	hint := acct.Hint()
	if acct.IsSession() {
		hint = "session " + acct.SessionID
	}
	now := time.Now()
	switch {
	case acct.SecretError() != nil:
		return hostStatus{line: line("✗", acct.User, hint, acct.Scopes, "unreadable ("+acct.SecretError().Error()+")")}
	case acct.State == client.StateInvalidated:
		return hostStatus{line: line("✗", acct.User, hint, acct.Scopes, "invalidated"+fix)}
	case acct.IsSession() && !acct.RefreshExpiresAt.IsZero() && !now.Before(acct.RefreshExpiresAt):
		return hostStatus{line: line("✗", acct.User, hint, acct.Scopes, "expired on "+client.FormatTime(acct.RefreshExpiresAt)+fix)}
	case !acct.IsSession() && !acct.ExpiresAt.IsZero() && !now.Before(acct.ExpiresAt):
		return hostStatus{line: line("✗", acct.User, hint, acct.Scopes, "expired on "+client.FormatTime(acct.ExpiresAt)+fix)}
	}
	stored := acct.ExpiresAt
	if acct.IsSession() {
		stored = acct.RefreshExpiresAt
	}
	w, err := a.clientFor(key, h, acct).Whoami(ctx)
	if err == nil {
		if w.TokenHint != "" {
			hint = w.TokenHint
		}
		return hostStatus{line: line("✓", w.Login, hint, w.Scopes, loggedIn(now, w.ExpiresAt)), ok: true}
	}
	var ae *client.AuthError
	if errors.As(err, &ae) {
		var state string
		switch {
		case errors.Is(err, client.ErrTokenExpired):
			exp := ae.ExpiredAt
			if exp.IsZero() {
				exp = stored
			}
			state = "expired"
			if !exp.IsZero() {
				state += " on " + client.FormatTime(exp)
			}
			state += fix
		case errors.Is(err, client.ErrTokenRevoked):
			state = "revoked" + fix
		case errors.Is(err, client.ErrUserDisabled):
			state = "user disabled; ask the server's operator"
		default:
			state = "invalid (" + strings.TrimSpace(ae.Description) + ")" + fix
		}
		return hostStatus{line: line("✗", acct.User, hint, acct.Scopes, state)}
	}
	if errors.Is(err, client.ErrSessionInvalidated) {
		return hostStatus{line: line("✗", acct.User, hint, acct.Scopes, "invalidated"+fix)}
	}
	state := fmt.Sprintf("offline, not checked (%v); stored: %s", err, expiryState(now, stored))
	var ne *client.NetworkError
	if !errors.As(err, &ne) {
		state = fmt.Sprintf("not checked (%v); stored: %s", err, expiryState(now, stored))
	}
	return hostStatus{line: line("!", acct.User, hint, acct.Scopes, state)}
}

// loggedIn is the state of a credential the server accepted.
func loggedIn(now, exp time.Time) string {
	if exp.IsZero() {
		return "logged in"
	}
	return "logged in (" + expiryState(now, exp) + ")"
}
