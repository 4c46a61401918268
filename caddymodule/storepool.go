package caddymodule

import (
	"errors"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/problem"
	"github.com/gatehouse/gatehouse/service"
)

// stores shares open bbolt files across config generations. Caddy
// provisions a new config before it stops the old one; a second bolt.Open
// of the same file in Provision would wait on the file lock the old
// generation still holds, and the reload would fail. Keyed by the cleaned
// absolute path; the last generation to let go closes the file.
var stores = caddy.NewUsagePool()

// pooledStore is an open store with what belongs to it and must outlive
// a config generation as the store does.
type pooledStore struct {
	*authstore.Store
	*perStore
}

// perStore is the in-memory state of one store file: failed-login and
// device-code counters (a reload must not reset a guesser's lock) and the
// setup link this process logged (a reload logs the same link again).
type perStore struct {
	logins  *service.Backoff // failed logins and setup tokens
	devices *service.Backoff // wrong device user codes
	setup   *service.SetupOffer
}

func newPerStore() *perStore {
	return &perStore{logins: service.NewBackoff(), devices: service.NewBackoff(), setup: new(service.SetupOffer)}
}

// Destruct closes the store when no config generation uses it any more.
func (p pooledStore) Destruct() error { return p.Close() }

func acquireStore(path string, etcd *config.Etcd) (pooledStore, error) {
	val, _, err := stores.LoadOrNew(path, func() (caddy.Destructor, error) {
		o := authstore.Options{Observe: observeStore}
		if etcd != nil {
			f, err := FleetOptions(etcd)
			if err != nil {
				return nil, err
			}
			o.Fleet = f
		}
		s, err := authstore.Open(path, o)
		if err != nil {
			return nil, err
		}
		ps := newPerStore()
		if etcd != nil {
			// Locks are fleet-wide: a guesser locked out on one edge is
			// locked out on all of them (counting stays per edge).
			ps.logins.Shared, ps.devices.Shared = s, s
		}
		return pooledStore{s, ps}, nil
	})
	if err != nil {
		return pooledStore{}, err
	}
	return val.(pooledStore), nil
}

// storeClaim is one config generation's hold on the pooled store.
// Provision only records the path: `caddy validate` provisions in a
// process of its own, beside a running server that holds the file lock,
// and must not wait for it. The store is taken in Start or, since Caddy
// starts apps in map order and the http app may serve first, by the first
// request or admin call. Cleanup releases it only if it was taken.
type storeClaim struct {
	path string
	etcd *config.Etcd // fleet mode: path is the mirror
	held atomic.Bool  // a.store and its state are set; read without mu

	mu       sync.Mutex
	released bool // Cleanup ran: a reference taken now would leak
}

var errStoreReleased = errors.New("gatehouse: the store was released with this config")

// openStore sets a.store, taking this generation's reference to the
// pooled store unless it holds one. Every entry point (Start, ServeHTTP,
// the admin API) calls it before anything reads a.store. An App built
// over a store opened directly (tests, offline commands) has no claim.
func (a *App) openStore() error {
	c := a.claim
	if c == nil || c.held.Load() {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.held.Load():
		return nil
	case c.released:
		return errStoreReleased
	}
	pooled, err := acquireStore(c.path, c.etcd)
	if err != nil {
		return err
	}
	a.useStore(pooled.Store, pooled.perStore)
	c.held.Store(true)
	return nil
}

// releaseStore gives up this generation's reference, if it took one.
// a.store stays set: requests the old generation is still finishing may
// use it, and the pool closes the file only when no generation holds it.
func (a *App) releaseStore() error {
	c := a.claim
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.released {
		return nil
	}
	c.released = true
	if !c.held.Load() {
		return nil
	}
	_, err := stores.Delete(c.path)
	return err
}

// storeUnavailable refuses a request when the store could not be opened
// (another process holds its lock, say): 503, nothing counted against the
// caller.
func storeUnavailable() *problem.Problem {
	return &problem.Problem{Status: http.StatusServiceUnavailable, Code: "temporarily_unavailable",
		Message: "the credential store is not available", Reason: "store_unavailable",
		Headers: http.Header{"Retry-After": {"1"}}}
}
