package authstore

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// resyncPage is how many keys one page of a full resync reads.
const resyncPage = 1000

// prepareMirror creates the mirror's buckets and loads its applied
// revision. A mirror made for another prefix starts over.
func (f *fleet) prepareMirror() error {
	return f.s.db.Update(func(btx *bolt.Tx) error {
		for _, name := range [][]byte{bucketFleet, bucketFleetRevs, bucketFleetOutbox, bucketAudit} {
			if _, err := btx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("mirror: create bucket %s: %w", name, err)
			}
		}
		for _, path := range mirrorBuckets {
			parts := splitPath(path)
			b, err := btx.CreateBucketIfNotExists([]byte(parts[0]))
			if err == nil && len(parts) == 2 {
				_, err = b.CreateBucketIfNotExists([]byte(parts[1]))
			}
			if err != nil {
				return fmt.Errorf("mirror: create bucket %s: %w", path, err)
			}
		}
		fb := btx.Bucket(bucketFleet)
		if p := fb.Get(keyPrefix); p != nil && string(p) != f.o.Prefix {
			f.log.Warn("mirror was made for another prefix; resyncing", zap.ByteString("was", p), zap.String("prefix", f.o.Prefix))
			if err := fb.Put(keyApplied, be64(0)); err != nil {
				return err
			}
		}
		if err := fb.Put(keyPrefix, []byte(f.o.Prefix)); err != nil {
			return err
		}
		f.applied.Store(int64(beUint64(fb.Get(keyApplied))))
		n := 0
		btx.Bucket(bucketFleetOutbox).ForEach(func(_, _ []byte) error { n++; return nil })
		f.outboxLen.Store(int64(n))
		return nil
	})
}

// run keeps the mirror current until the store closes: a full resync when
// the mirror is new or its revision was compacted away, else a watch from
// the applied revision, resumed after every error.
func (f *fleet) run() {
	defer f.wg.Done()
	backoff := 50 * time.Millisecond
	for f.ctx.Err() == nil {
		var err error
		if f.applied.Load() == 0 || f.needSync.Load() {
			err = f.resync()
		} else {
			err = f.watch()
		}
		if f.ctx.Err() != nil {
			return
		}
		if err != nil {
			f.log.Warn("mirror: etcd watch interrupted; resuming", zap.Error(err), zap.Int64("applied", f.applied.Load()))
			select {
			case <-time.After(backoff):
			case <-f.ctx.Done():
				return
			}
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 50 * time.Millisecond
	}
}

// watch follows the prefix from the applied revision until the watch
// fails (returned) or was compacted (resync requested, nil). It asks for
// a progress notification every ProgressInterval on the watch's own
// context, so an idle but connected edge stays fresh.
func (f *fleet) watch() error {
	ctx, cancel := context.WithCancel(clientv3.WithRequireLeader(f.ctx))
	defer cancel()
	from := f.applied.Load() + 1
	wch := f.cli.Watch(ctx, f.o.Prefix, clientv3.WithPrefix(), clientv3.WithRev(from),
		clientv3.WithPrevKV(), clientv3.WithProgressNotify())
	tick := time.NewTicker(f.o.ProgressInterval)
	defer tick.Stop()
	_ = f.cli.RequestProgress(ctx)
	for {
		select {
		case <-f.ctx.Done():
			return nil
		case <-tick.C:
			_ = f.cli.RequestProgress(ctx)
		case resp, ok := <-wch:
			if !ok {
				return fmt.Errorf("watch channel closed")
			}
			if resp.CompactRevision != 0 {
				f.log.Warn("mirror: applied revision was compacted; resyncing", zap.Int64("applied", f.applied.Load()), zap.Int64("compacted", resp.CompactRevision))
				f.needSync.Store(true)
				return nil
			}
			if err := resp.Err(); err != nil {
				return err
			}
			if len(resp.Events) > 0 {
				if err := f.apply(resp.Events); err != nil {
					return err
				}
			}
			if resp.Header.Revision <= f.applied.Load() || resp.IsProgressNotify() {
				// A progress notification: nothing under the prefix
				// changed up to the header's revision.
				if resp.Header.Revision > f.known.Load() {
					f.known.Store(resp.Header.Revision)
				}
				f.markFresh()
				f.advance()
			}
		}
	}
}

// apply writes one watch response's events to the mirror in one bbolt
// transaction with the new applied revision, then drops what the caches
// hold for the changed keys: after the commit, as a local write does.
func (f *fleet) apply(events []*clientv3.Event) error {
	var last int64
	var changed []mirroredKey
	err := f.s.db.Update(func(btx *bolt.Tx) error {
		tx := &Tx{Tx: btx}
		revs := btx.Bucket(bucketFleetRevs)
		for _, ev := range events {
			last = max(last, ev.Kv.ModRevision)
			rel, ok := strings.CutPrefix(string(ev.Kv.Key), f.o.Prefix)
			if !ok {
				continue
			}
			path, key, ok := splitRelKey(rel)
			if !ok {
				continue
			}
			b := mirrorBucket(tx, path)
			if b == nil {
				continue // a bucket of a newer schema: not ours to read
			}
			var err error
			if ev.Type == mvccpb.DELETE {
				err = b.Delete(key)
				if err == nil {
					err = revs.Delete([]byte(rel))
				}
			} else {
				err = b.Put(key, ev.Kv.Value)
				if err == nil {
					err = revs.Put([]byte(rel), be64(uint64(ev.Kv.ModRevision)))
				}
			}
			if err != nil {
				return fmt.Errorf("mirror %s: %w", rel, err)
			}
			changed = append(changed, mirroredKey{path, bytes.Clone(key)})
		}
		if err := f.reapplyOutbox(tx); err != nil {
			return err
		}
		return btx.Bucket(bucketFleet).Put(keyApplied, be64(uint64(last)))
	})
	if err != nil {
		return fmt.Errorf("mirror: apply revision %d: %w", last, err)
	}
	f.applied.Store(last)
	for _, k := range changed {
		f.s.forgetMirrored(k.path, k.key)
	}
	f.advance()
	return nil
}

type mirroredKey struct {
	path string
	key  []byte
}

// resync replaces the mirror with a full read of the prefix at one
// revision, paged, swapped in with one bbolt transaction; then every cache
// starts cold.
func (f *fleet) resync() error {
	ctx, cancel := context.WithTimeout(f.ctx, time.Minute)
	defer cancel()
	end := clientv3.GetPrefixRangeEnd(f.o.Prefix)
	var kvs []*mvccpb.KeyValue
	var rev int64
	var cluster uint64
	from := f.o.Prefix
	for {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(resyncPage)}
		if rev != 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		resp, err := f.cli.Get(ctx, from, opts...)
		if err != nil {
			return fmt.Errorf("resync: %w", err)
		}
		if rev == 0 {
			rev, cluster = resp.Header.Revision, resp.Header.ClusterId
		}
		kvs = append(kvs, resp.Kvs...)
		if !resp.More || len(resp.Kvs) == 0 {
			break
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
	err := f.s.db.Update(func(btx *bolt.Tx) error {
		for _, path := range append([]string{string(bucketFleetRevs)}, mirrorBuckets...) {
			if strings.HasPrefix(path, "meta/") {
				continue // emptied with meta
			}
			if err := btx.DeleteBucket([]byte(path)); err != nil && err != bolt.ErrBucketNotFound {
				return err
			}
		}
		if _, err := btx.CreateBucket(bucketFleetRevs); err != nil {
			return err
		}
		for _, path := range mirrorBuckets {
			parts := splitPath(path)
			if len(parts) == 2 {
				if _, err := btx.Bucket([]byte(parts[0])).CreateBucket([]byte(parts[1])); err != nil {
					return err
				}
			} else if _, err := btx.CreateBucket([]byte(path)); err != nil {
				return err
			}
		}
		tx := &Tx{Tx: btx}
		revs := btx.Bucket(bucketFleetRevs)
		for _, kv := range kvs {
			rel := strings.TrimPrefix(string(kv.Key), f.o.Prefix)
			path, key, ok := splitRelKey(rel)
			if !ok {
				continue
			}
			b := mirrorBucket(tx, path)
			if b == nil {
				continue
			}
			if err := b.Put(key, kv.Value); err != nil {
				return err
			}
			if err := revs.Put([]byte(rel), be64(uint64(kv.ModRevision))); err != nil {
				return err
			}
		}
		if err := f.reapplyOutbox(tx); err != nil {
			return err
		}
		fb := btx.Bucket(bucketFleet)
		if err := fb.Put(keyCluster, be64(cluster)); err != nil {
			return err
		}
		return fb.Put(keyApplied, be64(uint64(rev)))
	})
	if err != nil {
		return fmt.Errorf("resync: write mirror: %w", err)
	}
	f.applied.Store(rev)
	f.known.Store(rev)
	f.needSync.Store(false)
	f.resyncs.Add(1)
	f.s.forgetAll()
	f.markFresh()
	f.advance()
	f.log.Info("mirror resynced", zap.Int64("revision", rev), zap.Int("keys", len(kvs)))
	return nil
}

// splitRelKey splits "users/<id>" into its bucket path and key.
func splitRelKey(rel string) (path string, key []byte, ok bool) {
	for _, nested := range nestedMeta {
		if k, ok := strings.CutPrefix(rel, nested+"/"); ok {
			return nested, []byte(k), k != ""
		}
	}
	path, k, ok := strings.Cut(rel, "/")
	return path, []byte(k), ok && k != ""
}

// forgetMirrored drops what the caches derived from key of bucket path,
// which a watch event changed.
func (s *Store) forgetMirrored(path string, key []byte) {
	switch path {
	case string(bucketPATs):
		if len(key) == len(TokenHash{}) {
			s.pats.invalidate(TokenHash(key))
		}
	case string(bucketUsers):
		s.users.invalidate(string(key))
	case string(bucketSessions):
		s.forgetSession(string(key))
	case "meta/signing_keys":
		s.forgetSigningKeys()
	case "meta/assertion_keys":
		s.forgetAssertionKeys()
	case string(bucketMeta):
		if string(key) == string(keySigningKey) {
			s.forgetSigningKeys()
		}
	}
}

// forgetAll empties every cache (after a resync).
func (s *Store) forgetAll() {
	s.pats.clear()
	s.users.clear()
	s.sessions.clear()
	s.sess.epoch.Add(1)
	s.forgetSigningKeys()
	s.forgetAssertionKeys()
}

// forgetAssertionKeys drops the current assertion keys read so far:
// another edge created or rotated one. It runs apart from the watch: a
// local CurrentAssertionKey holds st.mu while its write waits for the
// watch to apply it. Any fill after the mirror's commit reads the new keys,
// and a fill under way holds st.mu until it is done, so clearing later is
// still right.
func (s *Store) forgetAssertionKeys() {
	go func() {
		st := &s.assertionKeys
		st.mu.Lock()
		st.current = nil
		st.mu.Unlock()
	}()
}

// forgetSigningKeys drops the signing keys read so far and every verified
// JWT: another edge rotated or added a key.
func (s *Store) forgetSigningKeys() {
	s.sess.keysMu.Lock()
	s.sess.keys = map[string][]byte{}
	s.sess.keysMu.Unlock()
	s.sess.current.Store(nil)
	s.sess.jwts.clear()
}
