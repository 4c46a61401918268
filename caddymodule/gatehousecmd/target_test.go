package gatehousecmd

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

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
