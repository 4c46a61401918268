package caddymodule

import (
	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse/gatehouse/authstore"
)

// stores shares open bbolt files across config generations. Caddy
// provisions a new config before it stops the old one; a second bolt.Open
// of the same file in Provision would wait on the file lock the old
// generation still holds, and the reload would fail. Keyed by the cleaned
// absolute path; the last generation to let go closes the file.
var stores = caddy.NewUsagePool()

type pooledStore struct{ *authstore.Store }

// Destruct closes the store when no config generation uses it any more.
func (p pooledStore) Destruct() error { return p.Close() }

func acquireStore(path string) (*authstore.Store, error) {
	val, _, err := stores.LoadOrNew(path, func() (caddy.Destructor, error) {
		s, err := authstore.Open(path, authstore.Options{Observe: observeStore})
		if err != nil {
			return nil, err
		}
		return pooledStore{s}, nil
	})
	if err != nil {
		return nil, err
	}
	return val.(pooledStore).Store, nil
}
