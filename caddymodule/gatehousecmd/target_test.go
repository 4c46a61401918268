package gatehousecmd

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/admincli"
	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/caddymodule"
	"github.com/gatehouse/gatehouse/config"
)

func TestRunningStore(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		status  int
		body    string
		down    bool // nothing listens at the address
		want    string
		wantErr string // with %s for the address
	}{
		{name: "gatehouse answers", status: http.StatusOK, body: `{"store":"/data/s.db"}`, want: "/data/s.db"},
		{name: "no gatehouse in the config", status: http.StatusNotFound, body: `{"error":"not configured"}`},
		{name: "nothing listens", down: true},
		{name: "not a gatehouse", status: http.StatusOK, body: `<html>`, wantErr: "admin API at %s answered 200 OK; is it a Caddy with Gatehouse?"},
		{name: "an error", status: http.StatusServiceUnavailable, body: `{}`, wantErr: "admin API at %s answered 503 Service Unavailable; is it a Caddy with Gatehouse?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var origin, uri string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				origin, uri = r.Header.Get("Origin"), r.RequestURI
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			}))
			addr := srv.Listener.Addr().String()
			if tt.down {
				srv.Close()
			} else {
				t.Cleanup(srv.Close)
			}
			got, err := runningStore(addr)
			if wantErr := strings.ReplaceAll(tt.wantErr, "%s", addr); wantErr != "" {
				if err == nil || err.Error() != wantErr {
					t.Fatalf("error %v, want %q", err, wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("runningStore = %q, %v; want %q", got, err, tt.want)
			}
			if !tt.down && (origin != "http://"+addr || uri != api.AdminPrefix+"status") {
				t.Errorf("request %s with Origin %q, want %sstatus with Origin http://%s", uri, origin, api.AdminPrefix, addr)
			}
		})
	}
}

// TestOfflineTarget checks the target that opens the store in process:
// it answers like the admin API, and a store held by another opener
// fails fast with the hint to go through the running server.
func TestOfflineTarget(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	h, closeStore, err := caddymodule.OpenAdmin(config.Global{Store: path})
	if err != nil {
		t.Fatal(err)
	}
	target := admincli.NewTarget(inProcess(h), "opened directly (no running server)", closeStore)
	var st api.Status
	if err := target.Call("GET", api.AdminPrefix+"status", nil, &st); err != nil {
		t.Fatal(err)
	}
	if st.Store != path {
		t.Errorf("status names store %q, want %q", st.Store, path)
	}
	if err := target.Call("POST", api.AdminPrefix+"users", api.CreateUserRequest{Login: "ann"}, nil); err != nil {
		t.Fatal(err)
	}
	err = target.Call("POST", api.AdminPrefix+"users", api.CreateUserRequest{Login: "ann"}, nil)
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second user add: %v, want the admin API's message", err)
	}

	if _, _, err := caddymodule.OpenAdmin(config.Global{Store: path}); err == nil || !strings.Contains(err.Error(), "is another Caddy running with this store?") {
		t.Errorf("opening a held store: %v, want the hint about a running Caddy", err)
	}
	if err := target.Close(); err != nil {
		t.Fatal(err)
	}
	_, closeAgain, err := caddymodule.OpenAdmin(config.Global{Store: path})
	if err != nil {
		t.Fatalf("reopening after Close: %v", err)
	}
	closeAgain()
}

func TestSameFile(t *testing.T) {
	t.Parallel()
	abs, err := filepath.Abs("s.db")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		a, b string
		want bool
	}{
		{"s.db", abs, true},
		{"./x/../s.db", abs, true},
		{abs, abs, true},
		{"t.db", abs, false},
	}
	for _, tt := range tests {
		if got := sameFile(tt.a, tt.b); got != tt.want {
			t.Errorf("sameFile(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestOpenTarget runs `caddy gatehouse status` to check which target a
// command gets: the running server when it answers with the store asked
// for, the store opened here otherwise.
func TestOpenTarget(t *testing.T) {
	t.Parallel()
	running := filepath.Join(t.TempDir(), "running.db")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"store":"` + running + `","users":7,"tokens":1,"token_prefix":"gth_"}`))
	}))
	t.Cleanup(srv.Close)
	up := srv.Listener.Addr().String()
	down := httptest.NewServer(http.NotFoundHandler())
	downAddr := down.Listener.Addr().String()
	down.Close()

	tests := []struct {
		name  string
		args  []string
		store string // "" for the running server's
		via   string
		users string
	}{
		{name: "running server", args: []string{"--address", up}, via: "through the running server at " + up, users: "7"},
		{name: "running server, its store named", args: []string{"--address", up, "--store", running}, via: "through the running server at " + up, users: "7"},
		{name: "another store", args: []string{"--address", up, "--store", "other"}, store: "other", via: "opened directly (no running server)", users: "0"},
		{name: "no server", args: []string{"--address", downAddr, "--store", "offline"}, store: "offline", via: "opened directly (no running server)", users: "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := tt.args
			want := running
			if tt.store != "" {
				want = filepath.Join(t.TempDir(), tt.store+".db")
				args = append(args[:len(args)-1:len(args)-1], want)
			}
			root := &cobra.Command{Use: "gatehouse", SilenceErrors: true}
			build(root)
			var out bytes.Buffer
			root.SetOut(&out)
			root.SetArgs(append([]string{"status"}, args...))
			if err := root.Execute(); err != nil {
				t.Fatal(err)
			}
			wantOut := "store         " + want + "\nvia           " + tt.via + "\nusers         " + tt.users +
				"\ntokens        " + map[bool]string{true: "1", false: "0"}[tt.store == ""] + "\ntoken prefix  gth_\n"
			if out.String() != wantOut {
				t.Errorf("status printed\n%s\nwant\n%s", out.String(), wantOut)
			}
		})
	}
}
