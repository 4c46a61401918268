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
		Short: "Show each stored server's user, token and whether the token still works",
		Long: `Show one line per stored server: the user, the token's hint and scopes,
and its state as the server sees it now (valid until …, expires in 3 days,
expired, revoked, invalid). A server that cannot be reached is reported as
offline, with what is stored. The exit status is 1 unless every token works.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.status(cmd.Context(), server) },
	}
	cmd.Flags().StringVarP(&server, "server", "s", "", "show only this `HOST`")
	return cmd
}

// hostStatus is the outcome of checking one host.
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
		key, _, err := hf.Resolve(server, cliName)
		if err != nil {
			return err
		}
		keys = []string{key}
	}
	if len(keys) == 0 {
		return fmt.Errorf("not logged in to any server; run: %s auth login -s HOST", cliName)
	}
	defaultKey, _, _ := hf.Resolve("", cliName)

	results := make([]hostStatus, len(keys))
	var wg sync.WaitGroup
	for i, key := range keys {
		wg.Go(func() { results[i] = a.checkHost(ctx, key, hf.Host(key), key == defaultKey) })
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

// checkHost asks the server about one stored token.
func (a *app) checkHost(ctx context.Context, key string, h *client.Host, isDefault bool) hostStatus {
	name := client.DisplayHost(key)
	if isDefault {
		name += " (default)"
	}
	line := func(mark, user, hint string, scopes []string, state string) string {
		if user == "" {
			user = "?"
		}
		return fmt.Sprintf("%s %s\t%s\t%s\t%s\t%s", mark, name, user, hint, scopesText(scopes), state)
	}
	if h == nil || h.Token == "" {
		return hostStatus{line: line("✗", "", "(none)", nil, fmt.Sprintf("no token; run: %s auth login -s %s", cliName, client.DisplayHost(key)))}
	}
	now := time.Now()
	w, err := a.client(key, h).Whoami(ctx)
	if err == nil {
		hint := w.TokenHint
		if hint == "" {
			hint = h.Hint()
		}
		return hostStatus{line: line("✓", w.Login, hint, w.Scopes, expiryState(now, w.ExpiresAt)), ok: true}
	}
	fix := fmt.Sprintf("; run: %s auth login -s %s", cliName, client.DisplayHost(key))
	var ae *client.AuthError
	if errors.As(err, &ae) {
		var state string
		switch {
		case errors.Is(err, client.ErrTokenExpired):
			exp := ae.ExpiredAt
			if exp.IsZero() {
				exp = h.ExpiresAt
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
		return hostStatus{line: line("✗", h.User, h.Hint(), h.Scopes, state)}
	}
	state := fmt.Sprintf("offline, not checked (%v); stored: %s", err, expiryState(now, h.ExpiresAt))
	var ne *client.NetworkError
	if !errors.As(err, &ne) {
		state = fmt.Sprintf("not checked (%v); stored: %s", err, expiryState(now, h.ExpiresAt))
	}
	return hostStatus{line: line("!", h.User, h.Hint(), h.Scopes, state)}
}
