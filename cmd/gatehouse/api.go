package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/client"
)

// maxInput bounds a request body read from a file or stdin.
const maxInput = 64 << 20

// apiOptions are the flags of `api`.
type apiOptions struct {
	server  string
	user    string
	method  string
	data    string
	headers []string
}

func (a *app) apiCmd() *cobra.Command {
	var o apiOptions
	cmd := &cobra.Command{
		Use:   "api [-X METHOD] [-d DATA] PATH",
		Short: "Call the server's API with the stored token",
		Long: `Call PATH on the server with the stored token and print the response body.
With nothing stored for the server, the call goes out without a credential
(anonymous routes answer; others say how to log in). A session is
refreshed as needed: an expired access token is renewed and the call sent
again, once.

The method is GET, or POST when -d is given. -d @FILE reads the body from
a file and -d @- from standard input; a body that is JSON is sent as
application/json, anything else as a form. The exit status is 1 for an
answer of 400 or more, with the reason and its fix on stderr. A GET that is
rate limited is retried once after the server's Retry-After. A warning is
printed when the token expires within 7 days.`,
		Example: `  gatehouse api /v1/papers
  gatehouse api -X DELETE /v1/papers/42
  gatehouse api -d '{"title":"On Gates"}' /v1/papers
  gatehouse api -s localhost:8080 -d @paper.json /v1/papers`,
		Args: exactArgs(1, "one PATH"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.api(cmd.Context(), o, args[0], cmd.Flags().Changed("data"))
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.server, "server", "s", "", "the server, as `HOST[:PORT]` or a URL")
	f.StringVarP(&o.user, "user", "u", "", "call as this stored account (`LOGIN`); default: the active one")
	f.StringVarP(&o.method, "method", "X", "", "HTTP `METHOD` (default GET, or POST with -d)")
	f.StringVarP(&o.data, "data", "d", "", "request body: `DATA`, @FILE or @- for stdin")
	f.StringArrayVarP(&o.headers, "header", "H", nil, "extra request header, `'Name: value'` (repeatable)")
	return cmd
}

// api runs `api`.
func (a *app) api(ctx context.Context, o apiOptions, path string, hasData bool) error {
	req, err := a.apiRequest(o, path, hasData)
	if err != nil {
		return err
	}
	_, hf, err := a.loadHosts()
	if err != nil {
		return err
	}
	server := o.server
	if u, ok := absoluteURL(path); ok {
		// A full URL names its server; it must be the one asked for.
		origin := u.Scheme + "://" + u.Host
		if server != "" {
			want, err := client.NormalizeHost(server)
			if err != nil {
				return err
			}
			if got, _ := client.NormalizeHost(origin); got != want {
				return usageError{fmt.Errorf("%s is not on %s", path, client.DisplayHost(want))}
			}
		}
		server = origin
		req.Path = u.RequestURI()
	}
	key, acct, err := hf.ResolveAccount(server, o.user, cliName)
	if err != nil {
		// Nothing stored for a named server: call it anonymously, so
		// that anonymous routes work; a 401 then says how to log in.
		if !errors.Is(err, client.ErrNotLoggedIn) || key == "" || o.user != "" {
			return err
		}
		acct = nil
	}
	c := a.clientFor(key, hf.Host(key), acct)
	c.OnRetry = func(wait time.Duration, _ *client.RateLimitError) {
		a.warnf("rate limited by %s; retrying in %s", client.DisplayHost(key), wait)
	}

	resp, err := c.Do(ctx, req)
	if resp != nil {
		defer resp.Body.Close()
		if _, cerr := io.Copy(a.stdout, resp.Body); cerr != nil && err == nil {
			err = fmt.Errorf("reading the answer of %s: %w", client.DisplayHost(key), cerr)
		}
		a.warnExpiry(key, resp.Header)
		if loc := resp.Header.Get("Location"); err == nil && resp.StatusCode/100 == 3 && loc != "" {
			a.warnf("%s redirected to %s, which was not followed (another origin)", client.DisplayHost(key), loc)
		}
	}
	if err != nil {
		if resp != nil {
			fmt.Fprintf(a.stderr, "%s: %v\n", cliName, err)
			return errSilent
		}
		return err
	}
	return nil
}

// apiRequest builds the request from the flags.
func (a *app) apiRequest(o apiOptions, path string, hasData bool) (*client.Request, error) {
	req := &client.Request{Method: strings.ToUpper(o.method), Path: path, Header: http.Header{}}
	if req.Method == "" {
		req.Method = http.MethodGet
		if hasData {
			req.Method = http.MethodPost
		}
	}
	if strings.ContainsAny(req.Method, " \t\r\n/:") {
		return nil, usageError{fmt.Errorf("%q is not an HTTP method", o.method)}
	}
	for _, hv := range o.headers {
		name, value, ok := strings.Cut(hv, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, usageError{fmt.Errorf("header %q is not 'Name: value'", hv)}
		}
		if strings.EqualFold(name, "Authorization") {
			return nil, usageError{errors.New("the token comes from hosts.yml; an Authorization header cannot be given")}
		}
		req.Header.Add(name, strings.TrimSpace(value))
	}
	if hasData {
		body, err := a.readData(o.data)
		if err != nil {
			return nil, err
		}
		req.Body = body
		if req.Header.Get("Content-Type") == "" {
			if json.Valid(body) {
				req.Header.Set("Content-Type", "application/json")
			} else {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
		}
	}
	return req, nil
}

// readData reads -d: literal text, @FILE, or @- for stdin.
func (a *app) readData(data string) ([]byte, error) {
	name, ok := strings.CutPrefix(data, "@")
	if !ok {
		return []byte(data), nil
	}
	var r io.Reader = a.stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("reading -d: %w", err)
		}
		defer f.Close()
		r = f
	}
	body, err := io.ReadAll(io.LimitReader(r, maxInput+1))
	if err != nil {
		return nil, fmt.Errorf("reading -d: %w", err)
	}
	if len(body) > maxInput {
		return nil, fmt.Errorf("reading -d: more than %d MiB", maxInput>>20)
	}
	return body, nil
}

// absoluteURL reports whether a PATH argument is a full http(s) URL.
func absoluteURL(path string) (*url.URL, bool) {
	u, err := url.Parse(path)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, false
	}
	return u, true
}

// warnExpiry warns on stderr when a response says the token expires
// within a week.
func (a *app) warnExpiry(key string, h http.Header) {
	exp, ok := client.TokenExpiration(h)
	if !ok {
		return
	}
	left := time.Until(exp)
	if left <= 0 || left > expiryWarning {
		return
	}
	name := client.DisplayHost(key)
	a.warnf("the token for %s expires in %s (%s); to renew it, run: %s auth login -s %s",
		name, roughDuration(left), client.FormatTime(exp), cliName, name)
}
