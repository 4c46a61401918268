package caddymodule

import (
	"net/http"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/adminapi"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
)

// OpenAdmin opens the store g names (the default one when g names none)
// in this process and returns the admin API handler over it: the handler
// the running server's admin endpoint serves, so the `caddy gatehouse`
// commands validate and answer alike with no server running. close closes
// the store. Opening fails fast, with the path and a hint, when another
// process (a running Caddy) holds the store's lock.
func OpenAdmin(g config.Global) (h http.Handler, close func() error, err error) {
	policy, err := compilePolicy(g)
	if err != nil {
		return nil, nil, err
	}
	path, err := storePath(g.Store)
	var o authstore.Options
	if g.Etcd != nil {
		// Fleet mode: act on etcd through the configured mirror, as an
		// edge of its own while the command runs.
		if path, err = mirrorPath(g.Etcd.Mirror); err == nil {
			o.Fleet, err = FleetOptions(g.Etcd)
		}
	}
	if err != nil {
		return nil, nil, err
	}
	store, err := authstore.Open(path, o)
	if err != nil {
		return nil, nil, err
	}
	app := overStore(g, policy, store, zap.NewNop())
	return adminapi.New(adminapi.Config{Service: app.service}), store.Close, nil
}
