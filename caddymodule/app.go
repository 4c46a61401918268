package caddymodule

import (
	"fmt"
	"net/http"
	"path/filepath"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/adminapi"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/gate"
	"github.com/gatehouse/gatehouse/idp"
	"github.com/gatehouse/gatehouse/service"
)

func init() {
	caddy.RegisterModule(App{})
}

// App is the `gatehouse` app: the deployment-wide policy and the store it
// guards. Handlers borrow it; there is one per config generation, while the
// open store it holds is shared across generations (see storepool.go).
type App struct {
	config.Global

	policy *config.Policy
	// store is set by openStore (storepool.go), in Start or by whichever
	// request comes first; until then only claim is.
	store *authstore.Store
	claim *storeClaim
	// svc is the shared operations over store (package service), set
	// with it (useStore).
	svc    *service.Service
	logger *zap.Logger
	limits limits // rate limiters, pooled across generations (limits.go)
	gate   *gate.Gate

	admin http.Handler

	// providers are the identity providers, built in Provision with their
	// client secrets resolved (identity.go).
	providers []*idp.Provider
}

// CaddyModule returns the Caddy module information.
func (App) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "gatehouse",
		New: func() caddy.Module { return new(App) },
	}
}

// Provision compiles the policy, takes the rate limiters and notes which
// store to use. It does not open the store (see storeClaim), so a
// `caddy validate` beside a running server need not wait for its lock.
func (a *App) Provision(ctx caddy.Context) error {
	a.logger = ctx.Logger()
	if err := registerMetrics(ctx.GetMetricsRegistry()); err != nil {
		return fmt.Errorf("gatehouse metrics: %w", err)
	}
	policy, err := compilePolicy(a.Global)
	if err != nil {
		return err
	}
	a.policy = policy
	if err := a.provisionLimits(); err != nil {
		return err
	}
	a.gate = a.newGate()
	if a.providers, err = buildProviders(policy); err != nil {
		return err
	}
	path, err := storePath(a.Store)
	if a.Etcd != nil {
		path, err = mirrorPath(a.Etcd.Mirror)
	}
	if err != nil {
		return err
	}
	a.claim = &storeClaim{path: path, etcd: a.Etcd}
	a.admin = adminapi.New(adminapi.Config{Service: a.service, Logger: a.logger})
	return nil
}

// Start implements caddy.App: it opens the store, unless a request that
// arrived first already did, and offers the first-admin setup on a store
// without human accounts (service.OfferSetup). It also computes the fake
// password hash that unknown logins are checked against, so the first
// such login is not faster than later ones.
func (a *App) Start() error {
	if err := a.openStore(); err != nil {
		return err
	}
	go authstore.WarmPasswordCheck()
	a.svc.OfferSetup()
	return nil
}

// Stop implements caddy.App. The store stays open: the next config
// generation may already hold it.
func (a *App) Stop() error { return nil }

// Cleanup releases this generation's references to the rate limiters and,
// if it was opened, the store. Caddy calls Cleanup after a failed
// Provision or Start too, and after `caddy validate`, which never starts.
func (a *App) Cleanup() error {
	a.releaseLimits()
	return a.releaseStore()
}

// newGate builds the gate over this generation's policy and budgets. It
// reads the store through storeRef, since the store is opened after
// Provision (storepool.go).
func (a *App) newGate() *gate.Gate {
	return gate.New(gate.Config{
		Policy: a.policy, Store: storeRef{a}, Facts: caddyFacts{},
		Budgets: a.limits.Budgets, Logger: a.logger,
	})
}

// compilePolicy validates the global configuration (service.CompilePolicy).
func compilePolicy(g config.Global) (*config.Policy, error) { return service.CompilePolicy(g) }

// overStore is an App over a store opened directly, without a Caddy
// server: the offline commands and unit tests.
func overStore(g config.Global, policy *config.Policy, store *authstore.Store, logger *zap.Logger) *App {
	a := &App{Global: g, policy: policy, logger: logger}
	a.useStore(store, newPerStore())
	return a
}

// useStore sets the store this App works on and the service over it and
// the store's in-memory state.
func (a *App) useStore(store *authstore.Store, ps *perStore) {
	a.store = store
	a.svc = &service.Service{Store: store, Policy: a.policy, Logger: a.logger, Logins: ps.logins, Devices: ps.devices, Offer: ps.setup}
}

// service is the shared operations over the open store; callers have
// called openStore.
func (a *App) service() *service.Service { return a.svc }

// storePath resolves the configured store path ({env.*} placeholders
// allowed) or the default under Caddy's data directory.
func storePath(configured string) (string, error) {
	if configured == "" {
		return DefaultStorePath(), nil
	}
	p, err := caddy.NewReplacer().ReplaceOrErr(configured, true, true)
	if err != nil {
		return "", fmt.Errorf("gatehouse store path: %w", err)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("gatehouse store path %s: %w", p, err)
	}
	return filepath.Clean(abs), nil
}

// DefaultStorePath is where the store lives unless `store` names a file:
// gatehouse/gatehouse.db in Caddy's data directory.
func DefaultStorePath() string {
	return filepath.Join(caddy.AppDataDir(), "gatehouse", "gatehouse.db")
}

// Interface guards
var (
	_ caddy.App          = (*App)(nil)
	_ caddy.Provisioner  = (*App)(nil)
	_ caddy.CleanerUpper = (*App)(nil)
)
