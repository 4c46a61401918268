package caddymodule

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
)

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "gatehouse",
		Usage: "<user|token|store|audit|status> …",
		Short: "Manages Gatehouse users, tokens, sessions and the store",
		Long: `
Manages the Gatehouse store: users, personal access tokens, sessions,
memberships, backups.

While Caddy runs, the store file is locked, so commands go through the
running server's admin API (found with --address, or from the config given
with --config, or the default localhost:2019). When no server answers, they
open the store directly: the file named by --store, or by the gatehouse
global option of the config, or the default under Caddy's data directory.`,
		CobraFunc: func(cmd *cobra.Command) {
			f := cmd.PersistentFlags()
			f.StringP("config", "c", "", "Caddyfile or JSON config whose admin address and store to use")
			f.StringP("adapter", "a", "", "Name of the config adapter")
			f.String("address", "", "Admin API address of the running server")
			f.String("store", "", "Store file to open when no server runs")
			for _, sub := range commandGroups {
				cmd.AddCommand(sub())
			}
		},
	})
}

// commandGroups build the `caddy gatehouse` subcommands; each file that
// owns a group registers it.
var commandGroups []func() *cobra.Command

// runE adapts a command body to cobra, silencing cobra's usage dump on
// operational errors (a refused command is not a usage mistake).
func runE(f func(cmd *cobra.Command, t *cliTarget, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		cmd.SilenceUsage = true
		t, err := openTarget(cmd)
		if err != nil {
			return err
		}
		defer t.close()
		return f(cmd, t, args)
	}
}

// cliTarget is where a command's operations go: the running server's
// admin API, or an admin handler over the store opened in this process.
type cliTarget struct {
	remote string
	local  http.Handler
	close  func()
}

func openTarget(cmd *cobra.Command) (*cliTarget, error) {
	fl := cmd.Flags()
	configFile, _ := fl.GetString("config")
	adapter, _ := fl.GetString("adapter")
	address, _ := fl.GetString("address")
	storeFlag, _ := fl.GetString("store")

	addr, err := caddycmd.DetermineAdminAPIAddress(address, nil, configFile, adapter)
	if err != nil {
		return nil, err
	}
	running, err := runningStore(addr)
	if err != nil {
		return nil, err
	}
	if running != "" && (storeFlag == "" || sameFile(storeFlag, running)) {
		return &cliTarget{remote: addr, close: func() {}}, nil
	}
	g, err := loadGlobal(configFile, adapter)
	if err != nil {
		return nil, err
	}
	if storeFlag != "" {
		g.Store = storeFlag
	}
	app, err := openOffline(g)
	if err != nil {
		return nil, err
	}
	return &cliTarget{local: app.adminHandler(), close: func() { app.store.Close() }}, nil
}

// runningStore asks the admin API at addr which store the running server
// uses; "" means no server with Gatehouse answers there.
func runningStore(addr string) (string, error) {
	resp, err := adminRequest(addr, http.MethodGet, adminPrefix+"status", nil)
	if err != nil {
		var netErr net.Error
		if errors.As(err, &netErr) || errors.Is(err, os.ErrNotExist) || strings.Contains(err.Error(), "connection refused") {
			return "", nil
		}
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return "", nil
	}
	var st api.Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("admin API at %s answered %s; is it a Caddy with Gatehouse?", addr, resp.Status)
	}
	return st.Store, nil
}

func sameFile(a, b string) bool {
	abs, err := filepath.Abs(a)
	return err == nil && filepath.Clean(abs) == filepath.Clean(b)
}

// loadGlobal reads the gatehouse app's config from a Caddyfile or JSON
// config (the adjacent Caddyfile when none is named), or returns defaults.
func loadGlobal(configFile, adapter string) (config.Global, error) {
	var g config.Global
	raw, _, _, err := caddycmd.LoadConfig(configFile, adapter)
	if err != nil || len(raw) == 0 {
		return g, err
	}
	var cfg struct {
		Apps struct {
			Gatehouse json.RawMessage `json:"gatehouse"`
		} `json:"apps"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return g, fmt.Errorf("reading config: %w", err)
	}
	if len(cfg.Apps.Gatehouse) > 0 {
		if err := json.Unmarshal(cfg.Apps.Gatehouse, &g); err != nil {
			return g, fmt.Errorf("reading the gatehouse app config: %w", err)
		}
	}
	return g, nil
}

// openOffline builds an App over the store opened in this process, for
// commands run while no server holds the file.
func openOffline(g config.Global) (*App, error) {
	policy, err := compilePolicy(g)
	if err != nil {
		return nil, err
	}
	path, err := storePath(g.Store)
	if err != nil {
		return nil, err
	}
	store, err := authstore.Open(path, authstore.Options{})
	if err != nil {
		return nil, err
	}
	app := &App{Global: g, policy: policy, store: store, perStore: newPerStore(), logger: zap.NewNop()}
	app.admin = app.newAdminMux()
	return app, nil
}

// call performs one admin operation, decoding a JSON answer into out or
// turning an error answer into an error with the server's message.
func (t *cliTarget) call(method, uri string, in, out any) error {
	resp, err := t.do(method, uri, in)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
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

func (t *cliTarget) do(method, uri string, in any) (*http.Response, error) {
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(raw)
	}
	if t.remote != "" {
		return adminRequest(t.remote, method, uri, body)
	}
	req := httptest.NewRequest(method, uri, body)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	t.local.ServeHTTP(rec, req)
	return rec.Result(), nil
}

// adminRequest calls Caddy's admin API at addr (tcp or unix socket) with
// the Origin header it requires. Unlike caddycmd.AdminAPIRequest it returns
// error responses, so their JSON message can be shown as is.
func adminRequest(addr, method, uri string, body io.Reader) (*http.Response, error) {
	na, err := caddy.ParseNetworkAddress(addr)
	if err != nil {
		return nil, fmt.Errorf("admin address %s: %w", addr, err)
	}
	dialAddr, origin := na.JoinHostPort(0), "http://"+na.JoinHostPort(0)
	if na.IsUnixNetwork() {
		dialAddr, _, _ = strings.Cut(na.Host, "|")
		origin = "http://127.0.0.1"
	}
	req, err := http.NewRequest(method, origin+uri, body)
	if err != nil {
		return nil, err
	}
	if !na.IsUnixNetwork() {
		req.Header.Set("Origin", origin)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	client := http.Client{
		Timeout: time.Minute,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{Timeout: 3 * time.Second}).DialContext(ctx, na.Network, dialAddr)
		}},
	}
	return client.Do(req)
}
