package caddymodule

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
)

// mirrorPath resolves a fleet mirror's path like storePath, defaulting to
// gatehouse/mirror.db in Caddy's data directory.
func mirrorPath(configured string) (string, error) {
	if configured == "" {
		return filepath.Join(caddy.AppDataDir(), "gatehouse", "mirror.db"), nil
	}
	return storePath(configured)
}

// fleetOptions turns `store etcd { … }` into the store's fleet options:
// placeholders ({env.ETCD_PASSWORD}) replaced, TLS files read. It runs when
// the store is opened, not in Provision, since it reads files.
func fleetOptions(e *config.Etcd) (*authstore.FleetOptions, error) {
	repl := caddy.NewReplacer()
	expand := func(s string) (string, error) {
		if s == "" {
			return "", nil
		}
		return repl.ReplaceOrErr(s, true, true)
	}
	f := &authstore.FleetOptions{
		Prefix: e.Prefix, MaxStaleness: e.MaxStaleness.Or(0), ServeStale: e.OnStale == "serve",
		Logger: caddy.Log().Named("gatehouse.fleet"),
	}
	for _, ep := range e.Endpoints {
		v, err := expand(ep)
		if err != nil {
			return nil, fmt.Errorf("store etcd: endpoint: %w", err)
		}
		f.Endpoints = append(f.Endpoints, v)
	}
	var err error
	if f.EdgeID, err = expand(e.EdgeID); err != nil {
		return nil, fmt.Errorf("store etcd: edge_id: %w", err)
	}
	if f.Username, err = expand(e.Username); err != nil {
		return nil, fmt.Errorf("store etcd: username: %w", err)
	}
	if f.Password, err = expand(e.Password); err != nil {
		return nil, fmt.Errorf("store etcd: password: %w", err)
	}
	if e.TLS != nil {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if e.TLS.CA != "" {
			pem, err := os.ReadFile(e.TLS.CA)
			if err != nil {
				return nil, fmt.Errorf("store etcd: tls ca: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("store etcd: tls ca %s: no PEM certificate", e.TLS.CA)
			}
			cfg.RootCAs = pool
		}
		if e.TLS.Cert != "" {
			cert, err := tls.LoadX509KeyPair(e.TLS.Cert, e.TLS.Key)
			if err != nil {
				return nil, fmt.Errorf("store etcd: tls cert/key: %w", err)
			}
			cfg.Certificates = []tls.Certificate{cert}
		}
		f.TLS = cfg
	}
	return f, nil
}
