package authstore

import (
	"sync"
	"time"
)

// DefaultAuditRetention is how long audit events are kept unless
// Options.AuditRetention says otherwise.
const DefaultAuditRetention = 180 * 24 * time.Hour

const (
	// auditPruneEvery spaces audit pruning: events age by days, so there
	// is no point looking more often.
	auditPruneEvery = time.Hour
	// auditPruneBatch bounds one pruning transaction, so a large backlog
	// (a store that ran for years without retention) is deleted in short
	// writes that let logins and revocations in between.
	auditPruneBatch = 1000
	// auditPruneBatchesPerTick bounds one tick's pruning, so a backlog of
	// years is worked off a minute at a time.
	auditPruneBatchesPerTick = 10
)

// upkeep is the state of the store's periodic clean-up, which runs on the
// toucher's goroutine (housekeep).
type upkeep struct {
	auditRetention time.Duration
	// lastAuditPrune and swept are touched by the toucher goroutine only.
	lastAuditPrune time.Time
	swept          bool

	// wipes maps refresh records to when their sealed successor is to be
	// wiped (the end of its grace window); see refresh.go.
	wipesMu sync.Mutex
	wipes   map[TokenHash]time.Time
}

// housekeep is the toucher loop's minute tick: finished device grants
// and sealed refresh successors past their grace window go every minute,
// old audit events at most hourly. Failures are retried at the next tick;
// none of this may hold up a request.
func (s *Store) housekeep(now time.Time) {
	_ = s.purgeDeviceGrants()
	if !s.upkeep.swept {
		// Pending wipes live in memory: after a restart, find the ones
		// the last process did not get to.
		s.upkeep.swept = s.findSealedSuccessors() == nil
	}
	_ = s.wipeDueSuccessors()
	if now.Sub(s.upkeep.lastAuditPrune) >= auditPruneEvery {
		// A large backlog is worked off over several ticks, so last-used
		// stamps keep flowing and Close never waits long; the hour starts
		// once the backlog is gone.
		if done, err := s.pruneAudit(auditPruneBatch, auditPruneBatchesPerTick); err == nil && done {
			s.upkeep.lastAuditPrune = now
		}
	}
}

// pruneAudit deletes audit events older than the retention, oldest first,
// at most batch per write transaction and at most batches transactions,
// and reports whether nothing old is left.
// Each batch is found in a read transaction first, so a trail with
// nothing to prune costs no write. Events are keyed by sequence, which
// follows time, so the scan stops at the first event young enough to
// keep.
func (s *Store) pruneAudit(batch, batches int) (bool, error) {
	if s.upkeep.auditRetention < 0 {
		return true, nil
	}
	cutoff := s.now().Add(-s.upkeep.auditRetention)
	for range batches {
		var stale [][]byte
		err := s.view("find_old_audit", func(tx *Tx) error {
			c := tx.Bucket(bucketAudit).Cursor()
			for k, v := c.First(); k != nil && len(stale) < batch; k, v = c.Next() {
				var e struct {
					Time time.Time `json:"time"`
				}
				// An event that cannot be read is of no use to anyone:
				// it goes with the old ones around it.
				if decodeJSON(v, &e) == nil && !e.Time.Before(cutoff) {
					break
				}
				stale = append(stale, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil || len(stale) == 0 {
			return err == nil, err
		}
		// The trail is append-only and only this loop deletes from it, so
		// the keys found are still the oldest events.
		err = s.update("prune_audit", func(tx *Tx) error {
			b := tx.Bucket(bucketAudit)
			for _, k := range stale {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return false, err
		}
		if len(stale) < batch {
			return true, nil
		}
	}
	return false, nil
}
