package service

import (
	"maps"
	"slices"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
)

// The admin's view of the store: status, audit log, consistency check.

// Status is what `caddy gatehouse status` shows: the store, its counts
// and the policy's token prefix, scopes and tiers (sorted; a list, never
// null).
func (s *Service) Status() (api.Status, error) {
	st, err := s.Store.Stats()
	if err != nil {
		return api.Status{}, err
	}
	tiers := slices.AppendSeq(make([]string, 0, len(s.Policy.Tiers)), maps.Keys(s.Policy.Tiers))
	slices.Sort(tiers)
	return api.Status{
		Store: s.Store.Path(), Users: st.Users, Tokens: st.Tokens,
		TokenPrefix: s.Policy.TokenPrefix, Scopes: s.Policy.Scopes, Tiers: tiers,
		Engine: s.Store.Status().Engine, Fleet: fleetStatus(s.Store.Status()),
	}, nil
}

// fleetStatus is the store's fleet state as the admin API shows it, nil
// for a single-edge store.
func fleetStatus(f authstore.FleetStatus) *api.FleetStatus {
	if f.Engine != "etcd" {
		return nil
	}
	out := &api.FleetStatus{
		EdgeID: f.EdgeID, Endpoints: f.Endpoints, Prefix: f.Prefix, Applied: f.Applied, Known: f.Known,
		StalenessMS: f.Staleness.Milliseconds(), Stale: f.Stale, Resyncs: f.Resyncs, Conflicts: f.Conflicts,
		Outbox: f.Outbox, Edges: []api.FleetEdge{},
	}
	for _, e := range f.Edges {
		out.Edges = append(out.Edges, api.FleetEdge{ID: e.ID, Version: e.Version, Applied: e.Applied, Started: e.Started, Updated: e.Updated})
	}
	return out
}

// Audit is the newest limit audit events of the user with login, or of
// every user for "".
func (s *Service) Audit(login string, limit int) ([]api.AuditEvent, error) {
	userID, err := s.UserID(login)
	if err != nil {
		return nil, err
	}
	events, err := s.Store.Audit(userID, limit)
	if err != nil {
		return nil, err
	}
	out := make([]api.AuditEvent, 0, len(events))
	for _, e := range events {
		out = append(out, auditEvent(e))
	}
	return out, nil
}

// auditEvent is an audit record as the admin API shows it.
func auditEvent(e authstore.Event) api.AuditEvent {
	return api.AuditEvent{
		Seq: e.Seq, Time: e.Time, Action: e.Action,
		Actor:  api.AuditActor{Kind: e.Actor.Kind, UserID: e.Actor.UserID, IP: e.Actor.IP},
		UserID: e.UserID, TokenID: e.TokenID, Detail: e.Detail,
		Edge: e.Edge, Revision: e.Revision,
	}
}

// CheckStore runs the store's consistency check; no problems is an
// empty list, never nil.
func (s *Service) CheckStore() (api.StoreCheck, error) {
	problems, err := s.Store.Check()
	if err != nil {
		return api.StoreCheck{}, err
	}
	if problems == nil {
		problems = []string{}
	}
	return api.StoreCheck{Store: s.Store.Path(), Problems: problems}, nil
}
