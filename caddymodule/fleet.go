package caddymodule

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"

	"github.com/caddyserver/caddy/v2"
	"github.com/prometheus/client_golang/prometheus"

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

// FleetOptions turns `store etcd { … }` into the store's fleet options:
// placeholders ({env.ETCD_PASSWORD}) replaced, TLS files read. It runs when
// the store is opened, not in Provision, since it reads files.
func FleetOptions(e *config.Etcd) (*authstore.FleetOptions, error) {
	repl := caddy.NewReplacer()
	expand := func(s string) (string, error) {
		if s == "" {
			return "", nil
		}
		return repl.ReplaceOrErr(s, true, true)
	}
	f := &authstore.FleetOptions{
		Prefix: e.Prefix, MaxStaleness: e.MaxStaleness.Or(0), ServeStale: e.OnStale == "serve",
		Logger: caddy.Log().Named("gatehouse.fleet"), Version: moduleVersion(),
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

// moduleVersion is Gatehouse's module version in this binary, for the
// edge registry ("(devel)" in a build from a checkout).
func moduleVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	const mod = "github.com/gatehouse/gatehouse"
	if bi.Main.Path == mod {
		return bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == mod {
			if d.Replace != nil && d.Replace.Version != "" {
				return d.Replace.Version
			}
			return d.Version
		}
	}
	return ""
}

// fleetMetrics reports, at every scrape, the state of each fleet-mode
// store this process holds: how far its mirror lags etcd, how stale it
// is, its resyncs, lost races and queued revokes, and the live edges.
type fleetMetrics struct{}

var (
	fleetApplied   = prometheus.NewDesc("gatehouse_fleet_applied_revision", "The etcd revision this edge's mirror has applied.", []string{"edge"}, nil)
	fleetLag       = prometheus.NewDesc("gatehouse_fleet_revision_lag", "Revisions etcd reported (progress) beyond the mirror's applied one.", []string{"edge"}, nil)
	fleetStaleness = prometheus.NewDesc("gatehouse_fleet_staleness_seconds", "How long ago the mirror was last known current.", []string{"edge"}, nil)
	fleetResyncs   = prometheus.NewDesc("gatehouse_fleet_resyncs_total", "Full resyncs of the mirror (new mirror, or its revision compacted away).", []string{"edge"}, nil)
	fleetConflicts = prometheus.NewDesc("gatehouse_fleet_conflicts_total", "Write transactions retried after losing to another edge.", []string{"edge"}, nil)
	fleetOutbox    = prometheus.NewDesc("gatehouse_fleet_outbox", "Revokes applied here and waiting to reach etcd.", []string{"edge"}, nil)
	fleetEdges     = prometheus.NewDesc("gatehouse_fleet_edges", "Live edges in the fleet's registry, as this edge's mirror holds it.", []string{"edge"}, nil)
)

// Describe implements prometheus.Collector.
func (fleetMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{fleetApplied, fleetLag, fleetStaleness, fleetResyncs, fleetConflicts, fleetOutbox, fleetEdges} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (fleetMetrics) Collect(ch chan<- prometheus.Metric) {
	stores.Range(func(_, v any) bool {
		p, ok := v.(pooledStore)
		if !ok {
			return true
		}
		st := p.Status()
		if st.Engine != "etcd" {
			return true
		}
		g := func(d *prometheus.Desc, kind prometheus.ValueType, v float64) {
			ch <- prometheus.MustNewConstMetric(d, kind, v, st.EdgeID)
		}
		g(fleetApplied, prometheus.GaugeValue, float64(st.Applied))
		g(fleetLag, prometheus.GaugeValue, float64(st.Known-st.Applied))
		g(fleetStaleness, prometheus.GaugeValue, min(st.Staleness.Seconds(), 1e9))
		g(fleetResyncs, prometheus.CounterValue, float64(st.Resyncs))
		g(fleetConflicts, prometheus.CounterValue, float64(st.Conflicts))
		g(fleetOutbox, prometheus.GaugeValue, float64(st.Outbox))
		g(fleetEdges, prometheus.GaugeValue, float64(len(st.Edges)))
		return true
	})
}
