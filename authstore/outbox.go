package authstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// outboxEntry is a revoke made while etcd could not be reached: the
// record (a PAT's or a session's) and the revocation fields to merge into
// whatever etcd holds for it. Revocation is monotonic: merging it into a
// newer record (a last-used stamp from another edge) loses nothing, and a
// record revoked meanwhile stays as it is.
type outboxEntry struct {
	Key           []byte    `json:"key"` // relKey; bytes, since a token hash is not UTF-8
	RevokedAt     time.Time `json:"revoked_at"`
	RevokedReason string    `json:"revoked_reason,omitempty"`
}

// queueRevoke applies a revoke etcd did not take to the mirror at once
// (caches dropped, so this edge refuses the credential from now on) and
// queues it in the durable outbox, from which runOutbox commits it to
// etcd when the cluster is back.
func (f *fleet) queueRevoke(ft *fleetTx, shared, local []*fleetWrite) error {
	var queued []mirroredKey
	err := f.s.localUpdate(func(tx *Tx) error {
		ob := tx.Bucket(bucketFleetOutbox)
		for _, w := range shared {
			if w.deleted {
				continue
			}
			var rec struct {
				RevokedAt     time.Time `json:"revoked_at"`
				RevokedReason string    `json:"revoked_reason"`
			}
			if err := json.Unmarshal(w.val, &rec); err != nil || rec.RevokedAt.IsZero() {
				continue // not a revocation: dropped with the failed write
			}
			e := outboxEntry{Key: []byte(relKey(w.bucket, w.key)), RevokedAt: rec.RevokedAt, RevokedReason: rec.RevokedReason}
			seq, err := ob.bb.NextSequence()
			if err != nil {
				return err
			}
			if err := putJSON(ob, be64(seq), e); err != nil {
				return err
			}
			b := mirrorBucket(tx, w.bucket)
			if b == nil {
				return fmt.Errorf("outbox: bucket %s missing", w.bucket)
			}
			if err := b.Put(w.key, w.val); err != nil {
				return err
			}
			queued = append(queued, mirroredKey{w.bucket, w.key})
		}
		for _, w := range local {
			if b := mirrorBucket(tx, w.bucket); b != nil && !w.deleted {
				if err := b.Put(w.key, w.val); err != nil {
					return err
				}
			}
		}
		for _, e := range ft.events {
			e.Edge = f.o.EdgeID
			e.Detail += " (queued: etcd unavailable)"
			if err := f.s.unsafeAudit(tx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("queue revoke: %w", err)
	}
	f.outboxLen.Add(int64(len(queued)))
	for _, k := range queued {
		f.s.forgetMirrored(k.path, k.key)
	}
	f.log.Warn("etcd unavailable: revoke applied on this edge and queued", zap.Int("records", len(queued)))
	select {
	case f.drain <- struct{}{}:
	default:
	}
	return nil
}

// reapplyOutbox merges every queued revocation into the mirror again,
// inside the transaction that just applied watch events or a resync: an
// event from before the revoke reached etcd must not un-revoke it here.
func (f *fleet) reapplyOutbox(tx *Tx) error {
	ob := tx.Bucket(bucketFleetOutbox)
	return ob.bb.ForEach(func(_, v []byte) error {
		var e outboxEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return nil
		}
		path, key, ok := splitRelKey(string(e.Key))
		if !ok {
			return nil
		}
		b := mirrorBucket(tx, path)
		if b == nil {
			return nil
		}
		cur := b.bb.Get(key)
		if cur == nil {
			return nil
		}
		merged, changed, err := mergeRevocation(cur, e)
		if err != nil || !changed {
			return nil
		}
		return b.Put(key, merged)
	})
}

// mergeRevocation sets the revocation fields of e in the JSON record rec
// unless it is revoked already.
func mergeRevocation(rec []byte, e outboxEntry) ([]byte, bool, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(rec, &m); err != nil {
		return nil, false, err
	}
	var at time.Time
	if raw, ok := m["revoked_at"]; ok {
		if err := json.Unmarshal(raw, &at); err == nil && !at.IsZero() {
			return rec, false, nil
		}
	}
	raw, _ := json.Marshal(e.RevokedAt)
	m["revoked_at"] = raw
	if e.RevokedReason != "" {
		raw, _ := json.Marshal(e.RevokedReason)
		m["revoked_reason"] = raw
	}
	out, err := json.Marshal(m)
	return out, true, err
}

// runOutbox commits queued revokes to etcd whenever the outbox is not
// empty and etcd answers, oldest first, each as a compare-and-swap on the
// record's current revision. An entry leaves the outbox once the mirror
// holds etcd's revoked record.
func (f *fleet) runOutbox() {
	defer f.wg.Done()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-f.ctx.Done():
			return
		case <-tick.C:
		case <-f.drain:
		}
		if f.outboxLen.Load() == 0 {
			continue
		}
		if err := f.drainOutbox(); err != nil && f.ctx.Err() == nil {
			f.log.Debug("outbox: etcd still unavailable", zap.Error(err))
		}
	}
}

func (f *fleet) drainOutbox() error {
	type item struct {
		seq []byte
		e   outboxEntry
	}
	var items []item
	if err := f.s.localView(func(tx *Tx) error {
		return tx.Bucket(bucketFleetOutbox).bb.ForEach(func(k, v []byte) error {
			var e outboxEntry
			if json.Unmarshal(v, &e) == nil {
				items = append(items, item{append([]byte(nil), k...), e})
			}
			return nil
		})
	}); err != nil {
		return err
	}
	for _, it := range items {
		rev, err := f.commitRevocation(it.e)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(f.ctx, f.o.WriteTimeout)
		ok := f.waitKnown(ctx, rev)
		cancel()
		if !ok {
			return fmt.Errorf("outbox: revision %d not mirrored yet", rev)
		}
		if err := f.s.localUpdate(func(tx *Tx) error { return tx.Bucket(bucketFleetOutbox).bb.Delete(it.seq) }); err != nil {
			return err
		}
		f.outboxLen.Add(-1)
	}
	return nil
}

// commitRevocation merges e into etcd's record and returns a revision
// the mirror must reach to hold it.
func (f *fleet) commitRevocation(e outboxEntry) (int64, error) {
	key := f.o.Prefix + string(e.Key)
	for attempt := 0; attempt < maxRetries; attempt++ {
		ctx, cancel := context.WithTimeout(f.ctx, f.o.WriteTimeout)
		got, err := f.cli.Get(ctx, key)
		if err != nil {
			cancel()
			return 0, err
		}
		if len(got.Kvs) == 0 {
			cancel()
			return got.Header.Revision, nil // deleted meanwhile: nothing left to revoke
		}
		kv := got.Kvs[0]
		merged, changed, err := mergeRevocation(kv.Value, e)
		if err != nil || !changed {
			cancel()
			return kv.ModRevision, nil
		}
		resp, err := f.cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(key), "=", kv.ModRevision)).
			Then(clientv3.OpPut(key, string(merged))).Commit()
		cancel()
		if err != nil {
			return 0, err
		}
		if resp.Succeeded {
			return resp.Header.Revision, nil
		}
	}
	return 0, ErrConflict
}
