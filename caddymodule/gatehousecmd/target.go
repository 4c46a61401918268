package gatehousecmd

import (
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

	"github.com/gatehouse/gatehouse/admincli"
	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/caddymodule"
	"github.com/gatehouse/gatehouse/config"
)

// openTarget is the admincli.Opener of `caddy gatehouse`: the running
// server's admin API when a server with Gatehouse answers at the admin
// address and uses the store asked for, or else the store opened here.
func openTarget(cmd *cobra.Command) (admincli.Target, error) {
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
		send := func(method, uri string, body io.Reader) (*http.Response, error) {
			return adminRequest(addr, method, uri, body)
		}
		return admincli.NewTarget(send, "through the running server at "+addr, nil), nil
	}
	g, err := loadGlobal(configFile, adapter)
	if err != nil {
		return nil, err
	}
	if storeFlag != "" {
		g.Store, g.Etcd = storeFlag, nil
	}
	h, closeStore, err := caddymodule.OpenAdmin(g)
	if err != nil {
		return nil, err
	}
	return admincli.NewTarget(inProcess(h), "opened directly (no running server)", closeStore), nil
}

// runningStore asks the admin API at addr which store the running server
// uses; "" means no server with Gatehouse answers there.
func runningStore(addr string) (string, error) {
	resp, err := adminRequest(addr, http.MethodGet, api.AdminPrefix+"status", nil)
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

// inProcess serves each request with h, in this process.
func inProcess(h http.Handler) admincli.Exchange {
	return func(method, uri string, body io.Reader) (*http.Response, error) {
		req := httptest.NewRequest(method, uri, body)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Result(), nil
	}
}

// adminRequest calls Caddy's admin API at addr (tcp or unix socket) with
// the Origin header it requires. Unlike caddycmd.AdminAPIRequest it returns
// error responses, so their JSON message can be shown as is, and keeps
// dial errors unwrapped, so runningStore can tell "nothing listens".
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
