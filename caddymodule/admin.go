package caddymodule

import (
	"fmt"
	"net/http"

	"github.com/caddyserver/caddy/v2"
	"github.com/gatehouse/gatehouse/api"
)

func init() {
	caddy.RegisterModule(adminAPI{})
}

// adminAPI is the `admin.api.gatehouse` module: the `caddy gatehouse`
// commands reach the running server's store through it, since the store
// file is locked while Caddy runs.
type adminAPI struct {
	ctx caddy.Context
}

// CaddyModule returns the Caddy module information.
func (adminAPI) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "admin.api.gatehouse",
		New: func() caddy.Module { return new(adminAPI) },
	}
}

// Provision keeps the config context. The app is looked up per request:
// the admin server is built before the config's apps are provisioned, and
// a site may use the directive without a global `gatehouse` block, in
// which case its handler creates the app.
func (a *adminAPI) Provision(ctx caddy.Context) error {
	a.ctx = ctx
	return nil
}

// Routes returns the admin routes.
func (a *adminAPI) Routes() []caddy.AdminRoute {
	return []caddy.AdminRoute{{Pattern: api.AdminPrefix, Handler: caddy.AdminHandlerFunc(a.serve)}}
}

func (a *adminAPI) serve(w http.ResponseWriter, r *http.Request) error {
	app, err := a.ctx.AppIfConfigured("gatehouse")
	if err != nil {
		return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: fmt.Errorf("gatehouse is not configured in the running config: %w", err)}
	}
	if err := app.(*App).openStore(); err != nil {
		return caddy.APIError{HTTPStatus: http.StatusServiceUnavailable, Err: fmt.Errorf("opening the gatehouse store: %w", err)}
	}
	app.(*App).admin.ServeHTTP(w, r)
	return nil
}

// Interface guards
var (
	_ caddy.AdminRouter = (*adminAPI)(nil)
	_ caddy.Provisioner = (*adminAPI)(nil)
)
