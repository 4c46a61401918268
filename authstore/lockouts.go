package authstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// bucketLockouts holds, in fleet mode, the failed-login locks one edge
// imposed, for every edge to honour: SHA-256(key) hex -> lock end (JSON
// time), under a lease that ends with the lock. A single edge keeps its
// locks in memory only (service.Backoff).
var bucketLockouts = []byte("lockouts")

func lockoutKey(key string) []byte {
	h := sha256.Sum256([]byte("lockout:" + key))
	return []byte(hex.EncodeToString(h[:]))
}

// SharedLock is when the fleet-wide lock on key ends (zero: none, or a
// single-edge store). It reads the mirror: no network.
func (s *Store) SharedLock(key string) time.Time {
	if s.fleet == nil {
		return time.Time{}
	}
	var until time.Time
	_ = s.view("shared_lock", func(tx *Tx) error {
		if b := tx.Bucket(bucketLockouts); b != nil {
			if v := b.Get(lockoutKey(key)); v != nil {
				_ = json.Unmarshal(v, &until)
			}
		}
		return nil
	})
	return until
}

// ShareLock publishes, in fleet mode, a lock on key until the given time
// to every edge (a zero time lifts it). It returns at once: the writes go
// to etcd in order, from one goroutine (runLockouts), under a lease that
// ends with the lock; a failure only leaves the lock on this edge.
func (s *Store) ShareLock(key string, until time.Time) {
	f := s.fleet
	if f == nil {
		return
	}
	select {
	case f.lockouts <- sharedLock{key, until}:
	default:
		f.log.Warn("lockout not shared: too many pending")
	}
}

type sharedLock struct {
	key   string
	until time.Time
}

// runLockouts writes published locks to etcd in the order they came, so
// a later lock is never overwritten by an earlier one.
func (f *fleet) runLockouts() {
	defer f.wg.Done()
	for {
		select {
		case <-f.ctx.Done():
			return
		case l := <-f.lockouts:
			if err := f.writeLock(l); err != nil && f.ctx.Err() == nil {
				f.log.Debug("lockout not shared", zap.Error(err))
			}
		}
	}
}

func (f *fleet) writeLock(l sharedLock) error {
	k := f.o.Prefix + relKey(string(bucketLockouts), lockoutKey(l.key))
	ctx, cancel := context.WithTimeout(f.ctx, f.o.WriteTimeout)
	defer cancel()
	ttl := time.Until(l.until)
	if l.until.IsZero() || ttl <= 0 {
		_, err := f.cli.Delete(ctx, k)
		return err
	}
	g, err := f.cli.Grant(ctx, int64(ttl/time.Second)+1)
	if err != nil {
		return err
	}
	raw, _ := json.Marshal(l.until.UTC())
	_, err = f.cli.Put(ctx, k, string(raw), clientv3.WithLease(g.ID))
	return err
}
