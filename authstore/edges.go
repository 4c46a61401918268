package authstore

import (
	"context"
	"encoding/json"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// EdgeInfo is one edge's entry in the fleet's registry: kept under a
// lease this edge keeps alive, so an edge that stops leaves the registry
// within the lease's TTL.
type EdgeInfo struct {
	ID      string    `json:"id"`
	Version string    `json:"version,omitempty"`
	Applied int64     `json:"applied"`
	Started time.Time `json:"started"`
	Updated time.Time `json:"updated"`
}

// runRegistry keeps this edge's registry entry (edges/<id>) alive and
// current: the revision its mirror applied, refreshed every third of the
// lease's TTL. A lost lease (etcd was away longer than the TTL) is granted
// anew.
func (f *fleet) runRegistry() {
	defer f.wg.Done()
	started := time.Now().UTC()
	key := f.o.Prefix + relKey(string(bucketEdges), []byte(f.o.EdgeID))
	every := f.o.EdgeTTL / 3
	var lease clientv3.LeaseID
	var alive <-chan *clientv3.LeaseKeepAliveResponse
	for {
		if lease == 0 {
			ctx, cancel := context.WithTimeout(f.ctx, f.o.WriteTimeout)
			g, err := f.cli.Grant(ctx, int64(max(f.o.EdgeTTL/time.Second, 1)))
			cancel()
			if err == nil {
				lease = g.ID
				if alive, err = f.cli.KeepAlive(f.ctx, lease); err != nil {
					lease = 0
				}
			}
		}
		if lease != 0 {
			info := EdgeInfo{ID: f.o.EdgeID, Version: f.o.Version, Applied: f.applied.Load(), Started: started, Updated: time.Now().UTC()}
			raw, _ := json.Marshal(info)
			ctx, cancel := context.WithTimeout(f.ctx, f.o.WriteTimeout)
			_, err := f.cli.Put(ctx, key, string(raw), clientv3.WithLease(lease))
			cancel()
			if err != nil && f.ctx.Err() == nil {
				f.log.Debug("registry: cannot update this edge's entry", zap.Error(err))
			}
		}
		select {
		case <-f.ctx.Done():
			if lease != 0 {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				_, _ = f.cli.Revoke(ctx, lease)
				cancel()
			}
			return
		case _, ok := <-alive:
			if !ok {
				lease, alive = 0, nil
			}
			continue
		case <-time.After(every):
		}
	}
}

// Edges lists the fleet's live edges as this edge's mirror holds them
// (nil for a single-edge store).
func (s *Store) Edges() ([]EdgeInfo, error) {
	if s.fleet == nil {
		return nil, nil
	}
	var out []EdgeInfo
	err := s.view("edges", func(tx *Tx) error {
		return tx.Bucket(bucketEdges).bb.ForEach(func(_, v []byte) error {
			var e EdgeInfo
			if err := json.Unmarshal(v, &e); err == nil {
				out = append(out, e)
			}
			return nil
		})
	})
	return out, err
}

// FleetStatus is what `store status` shows of the engine.
type FleetStatus struct {
	Engine    string        `json:"engine"` // "bbolt" or "etcd"
	EdgeID    string        `json:"edge_id,omitempty"`
	Endpoints []string      `json:"endpoints,omitempty"`
	Prefix    string        `json:"prefix,omitempty"`
	Applied   int64         `json:"applied_revision,omitempty"`
	Known     int64         `json:"known_revision,omitempty"`
	Staleness time.Duration `json:"staleness_ns,omitempty"`
	Stale     bool          `json:"stale,omitempty"`
	Resyncs   int64         `json:"resyncs,omitempty"`
	Conflicts int64         `json:"conflicts,omitempty"`
	Outbox    int64         `json:"outbox,omitempty"`
	Edges     []EdgeInfo    `json:"edges,omitempty"`
}

// Status reports the engine and, in fleet mode, the mirror's state.
func (s *Store) Status() FleetStatus {
	f := s.fleet
	if f == nil {
		return FleetStatus{Engine: "bbolt"}
	}
	edges, _ := s.Edges()
	st := FleetStatus{
		Engine: "etcd", EdgeID: f.o.EdgeID, Endpoints: f.o.Endpoints, Prefix: f.o.Prefix,
		Applied: f.applied.Load(), Known: max(f.known.Load(), f.applied.Load()),
		Staleness: f.staleness(), Resyncs: f.resyncs.Load(), Conflicts: f.conflicts.Load(),
		Outbox: f.outboxLen.Load(), Edges: edges,
	}
	st.Stale = st.Staleness > f.o.MaxStaleness
	return st
}
