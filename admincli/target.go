package admincli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/api"
)

// Target is where a command's admin operations go: the running server's
// admin API, or the admin handler over a store opened in this process.
type Target interface {
	// Call sends method and uri (under api.AdminPrefix) with in, when not
	// nil, as the JSON body, and decodes the JSON answer into out, when
	// not nil; an io.Writer out receives the body as is (the store
	// backup). An error answer becomes an error with the server's message.
	Call(method, uri string, in, out any) error
	// Where says how the commands reach the store, for `status`:
	// "through the running server at localhost:2019", say.
	Where() string
	// Close releases what opening the target took (an open store).
	Close() error
}

// Opener opens the Target of one command run, after cobra has parsed its
// flags (the caller's persistent flags among them, such as --address).
type Opener func(cmd *cobra.Command) (Target, error)

// Exchange performs one admin API request and returns the answer,
// whatever its status. body is nil or JSON.
type Exchange func(method, uri string, body io.Reader) (*http.Response, error)

// NewTarget returns a Target that makes its calls through send, describes
// itself as where and, on Close, runs close (which may be nil).
func NewTarget(send Exchange, where string, close func() error) Target {
	return &exchangeTarget{send: send, where: where, close: close}
}

type exchangeTarget struct {
	send  Exchange
	where string
	close func() error
}

func (t *exchangeTarget) Where() string { return t.where }

func (t *exchangeTarget) Close() error {
	if t.close == nil {
		return nil
	}
	return t.close()
}

func (t *exchangeTarget) Call(method, uri string, in, out any) error {
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(raw)
	}
	resp, err := t.send(method, uri, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return decodeAnswer(resp, method, uri, out)
}

// decodeAnswer turns an admin API answer into out, or an error answer
// into an error with the server's message.
func decodeAnswer(resp *http.Response, method, uri string, out any) error {
	if resp.StatusCode >= 400 {
		var e api.Error
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if json.Unmarshal(body, &e) == nil && e.Message != "" {
			return errors.New(e.Message)
		}
		return fmt.Errorf("%s %s: %s", method, uri, resp.Status)
	}
	if out == nil {
		return nil
	}
	if w, ok := out.(io.Writer); ok {
		_, err := io.Copy(w, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// runner opens a Target for each command run.
type runner struct{ open Opener }

// run adapts a command body to cobra, silencing cobra's usage dump on
// operational errors (a refused command is not a usage mistake).
func (r runner) run(body func(cmd *cobra.Command, t Target, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		cmd.SilenceUsage = true
		t, err := r.open(cmd)
		if err != nil {
			return err
		}
		defer t.Close()
		return body(cmd, t, args)
	}
}
