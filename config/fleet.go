package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Etcd is fleet mode: etcd is the source of truth for every credential and
// the store file is this edge's mirror of it (`store etcd { … }`). Without
// it the store is the single-edge bbolt file.
type Etcd struct {
	// Endpoints are the etcd client URLs (http:// or https://).
	Endpoints []string `json:"endpoints"`
	// Prefix is the key prefix of this fleet's data. Default: /gatehouse/
	Prefix string `json:"prefix,omitempty"`
	// Mirror is the local bbolt mirror. Default: gatehouse/mirror.db
	// under Caddy's data directory.
	Mirror string `json:"mirror,omitempty"`
	// MaxStaleness is how long an edge cut off from etcd keeps verifying
	// credentials from its mirror. Default: 10s.
	MaxStaleness Duration `json:"max_staleness,omitempty"`
	// OnStale is what happens past MaxStaleness: "refuse" (503, the
	// default) or "serve" (keep answering from the mirror).
	OnStale string `json:"on_stale,omitempty"`
	// EdgeID names this edge in the registry and the audit trail.
	// Default: the host name and process id.
	EdgeID string `json:"edge_id,omitempty"`
	// Username and Password authenticate to etcd ({env.*} placeholders).
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	// TLS is the client TLS to etcd: CA bundle, client certificate and key
	// files.
	TLS *EtcdTLS `json:"tls,omitempty"`
}

// EtcdTLS names the PEM files of the client TLS to etcd.
type EtcdTLS struct {
	CA   string `json:"ca,omitempty"`
	Cert string `json:"cert,omitempty"`
	Key  string `json:"key,omitempty"`
}

// Validate checks the fleet configuration without any I/O.
func (e *Etcd) Validate() error {
	if len(e.Endpoints) == 0 {
		return errors.New("store etcd: at least one endpoint is required")
	}
	for _, ep := range e.Endpoints {
		u, err := url.Parse(ep)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("store etcd: endpoint %q: want http://host:port or https://host:port", ep)
		}
	}
	if e.Prefix != "" && (!strings.HasPrefix(e.Prefix, "/") || !strings.HasSuffix(e.Prefix, "/")) {
		return fmt.Errorf("store etcd: prefix %q must start and end with /", e.Prefix)
	}
	switch e.OnStale {
	case "", "refuse", "serve":
	default:
		return fmt.Errorf("store etcd: on_stale %q: want refuse or serve", e.OnStale)
	}
	if e.MaxStaleness < 0 {
		return errors.New("store etcd: max_staleness must not be negative")
	}
	if (e.Username == "") != (e.Password == "") {
		return errors.New("store etcd: username and password go together")
	}
	if t := e.TLS; t != nil && (t.Cert == "") != (t.Key == "") {
		return errors.New("store etcd: tls cert and key go together")
	}
	return nil
}
