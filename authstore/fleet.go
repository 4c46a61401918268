package authstore

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Fleet-mode outcomes callers branch on; problem maps both to 503.
var (
	// ErrUnavailable is a write refused because etcd cannot be reached
	// (or has no leader): writes fail closed.
	ErrUnavailable = errors.New("the fleet's etcd cluster is unavailable")
	// ErrStale is a credential check refused because this edge has been
	// cut off from etcd for longer than its max_staleness.
	ErrStale = errors.New("this edge has been cut off from the fleet's etcd cluster for too long")
	// ErrConflict is a write that lost to concurrent writes on other edges
	// more times than it retries.
	ErrConflict = errors.New("too many concurrent changes; try again")
	// ErrTxnTooLarge is a write transaction that would exceed etcd's
	// --max-txn-ops.
	ErrTxnTooLarge = errors.New("transaction too large for etcd")
)

// Buckets of a fleet mirror only (besides the store's own, see
// buckets.go):
//
//	fleet/         : applied (uint64 revision), cluster (uint64 id), prefix
//	fleet_revs/    : relKey -> uint64 mod revision of the mirrored value
//	fleet_outbox/  : uint64 sequence -> queued revoke JSON (outbox.go)
//	edges/         : edge id -> EdgeInfo JSON (mirrored, under leases)
//	totp_steps/    : user id -> uint64 last TOTP step used (mirrored; a
//	                 single edge keeps them in memory)
//	lockouts/      : hashed backoff key -> lock end, under a lease (lockouts.go)
var (
	bucketFleet       = []byte("fleet")
	bucketFleetRevs   = []byte("fleet_revs")
	bucketFleetOutbox = []byte("fleet_outbox")
	bucketEdges       = []byte("edges")
	bucketTOTPSteps   = []byte("totp_steps")

	keyApplied = []byte("applied")
	keyCluster = []byte("cluster")
	keyPrefix  = []byte("prefix")
)

// mirrorBuckets are the mirrored bucket paths, created in the mirror file
// when it opens (fleet write transactions cannot create buckets).
var mirrorBuckets = []string{
	"meta", "meta/signing_keys", "meta/assertion_keys", "users", "logins", "agent_logins", "pats", "pat_ids",
	"user_pats", "sessions", "user_sessions", "refresh", "device", "device_users", "identities",
	"user_identities", "edges", "totp_steps", "lockouts",
}

// FleetOptions configure fleet mode: etcd is the source of truth and the
// store's file is this edge's mirror of it. Options.Fleet nil is the
// single-edge bbolt store.
type FleetOptions struct {
	// Endpoints are the etcd client URLs.
	Endpoints []string
	// Prefix is the key prefix of this fleet's data. Default "/gatehouse/".
	Prefix string
	// MaxStaleness is how long the edge serves credential checks from
	// its mirror while cut off from etcd. Default 10s.
	MaxStaleness time.Duration
	// ServeStale keeps serving from the mirror past MaxStaleness instead
	// of refusing credential checks with ErrStale (503).
	ServeStale bool
	// TLS is the client TLS configuration, nil for plain connections.
	TLS *tls.Config
	// Username and Password authenticate to etcd, if set.
	Username, Password string
	// EdgeID names this edge in the registry and the audit trail.
	// Default: host name and process id.
	EdgeID string
	// Version is recorded in the edge registry.
	Version string
	// DialTimeout bounds the first connection. Default 5s.
	DialTimeout time.Duration
	// WriteTimeout bounds one etcd write transaction. Default 3s.
	WriteTimeout time.Duration
	// MaxTxnOps is the cluster's --max-txn-ops: compares and writes per
	// transaction. Default 128, etcd's default.
	MaxTxnOps int
	// ProgressInterval is how often the watch asks etcd for a progress
	// notification (the freshness clock). Default MaxStaleness/10,
	// between 50ms and 1s.
	ProgressInterval time.Duration
	// EdgeTTL is the registry lease's time to live. Default 10s.
	EdgeTTL time.Duration
	// Logger receives the fleet's state changes. Default: none.
	Logger *zap.Logger
}

func (o *FleetOptions) withDefaults() (FleetOptions, error) {
	f := *o
	if len(f.Endpoints) == 0 {
		return f, errors.New("fleet: no etcd endpoints")
	}
	if f.Prefix == "" {
		f.Prefix = "/gatehouse/"
	}
	if f.MaxStaleness <= 0 {
		f.MaxStaleness = 10 * time.Second
	}
	if f.EdgeID == "" {
		host, _ := os.Hostname()
		f.EdgeID = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if f.DialTimeout <= 0 {
		f.DialTimeout = 5 * time.Second
	}
	if f.WriteTimeout <= 0 {
		f.WriteTimeout = 3 * time.Second
	}
	if f.MaxTxnOps <= 0 {
		f.MaxTxnOps = 128
	}
	if f.ProgressInterval <= 0 {
		f.ProgressInterval = min(max(f.MaxStaleness/10, 50*time.Millisecond), time.Second)
	}
	if f.EdgeTTL <= 0 {
		f.EdgeTTL = 10 * time.Second
	}
	if f.Logger == nil {
		f.Logger = zap.NewNop()
	}
	return f, nil
}

// fleet is the etcd engine of a Store: the client, the watch that feeds
// the mirror (mirror.go), the outbox of revokes made while cut off
// (outbox.go) and this edge's registry entry (edges.go).
type fleet struct {
	s   *Store
	o   FleetOptions
	cli *clientv3.Client
	log *zap.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	applied   atomic.Int64 // last revision of the prefix applied to the mirror
	known     atomic.Int64 // revision the mirror is known current at (progress)
	freshAt   atomic.Int64 // s.now() in unix ns when the mirror was last known current
	resyncs   atomic.Int64
	conflicts atomic.Int64
	outboxLen atomic.Int64
	mu        sync.Mutex
	advanced  chan struct{} // closed and replaced whenever applied or known moves
	needSync  atomic.Bool

	drain    chan struct{}   // wakes the outbox drainer
	lockouts chan sharedLock // locks to publish (lockouts.go)
}

// openFleet connects to etcd, prepares the mirror and starts the watch.
// It waits up to DialTimeout for the mirror to catch up; a mirror that
// cannot (etcd unreachable) serves what it holds, as stale, unless it is
// empty, which is an error.
func openFleet(s *Store, opts *FleetOptions) (*fleet, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:            o.Endpoints,
		DialTimeout:          o.DialTimeout,
		DialKeepAliveTime:    2 * time.Second,
		DialKeepAliveTimeout: 2 * time.Second,
		TLS:                  o.TLS,
		Username:             o.Username,
		Password:             o.Password,
		Logger:               o.Logger.Named("etcd"),
		AutoSyncInterval:     30 * time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("fleet: connect to etcd %v: %w", o.Endpoints, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := &fleet{s: s, o: o, cli: cli, log: o.Logger, ctx: ctx, cancel: cancel,
		advanced: make(chan struct{}), drain: make(chan struct{}, 1), lockouts: make(chan sharedLock, 1024)}
	if err := f.prepareMirror(); err != nil {
		f.close()
		return nil, err
	}
	f.wg.Add(1)
	go f.run()
	wait, cancelWait := context.WithTimeout(ctx, o.DialTimeout)
	defer cancelWait()
	if !f.waitFresh(wait) {
		if f.applied.Load() == 0 {
			f.close()
			return nil, fmt.Errorf("fleet: %w: no answer from %v within %s, and the mirror %s is empty", ErrUnavailable, o.Endpoints, o.DialTimeout, s.path)
		}
		f.log.Warn("etcd unreachable at start; serving the mirror as stale", zap.Int64("applied", f.applied.Load()))
	}
	f.wg.Add(3)
	go f.runOutbox()
	go f.runRegistry()
	go f.runLockouts()
	return f, nil
}

func (f *fleet) close() {
	f.cancel()
	f.wg.Wait()
	f.cli.Close()
}

// staleness is how long ago the mirror was last known current.
func (f *fleet) staleness() time.Duration {
	at := f.freshAt.Load()
	if at == 0 {
		return time.Duration(1<<63 - 1)
	}
	return time.Duration(f.s.now().UnixNano() - at)
}

func (f *fleet) markFresh() { f.freshAt.Store(f.s.now().UnixNano()) }

// cutOff reports whether etcd has been silent for longer than three
// progress intervals (and a second): writes then fail at once instead of
// waiting out their timeout.
func (f *fleet) cutOff() bool {
	return f.staleness() > 3*f.o.ProgressInterval+time.Second
}

// checkFreshAt is the request path's check at time now (the caller's
// clock reading, so it costs no second one): nil, or ErrStale once the
// edge has been cut off past MaxStaleness (unless it serves stale).
func (s *Store) checkFreshAt(now time.Time) error {
	f := s.fleet
	if f == nil || f.o.ServeStale {
		return nil
	}
	if at := f.freshAt.Load(); at != 0 && now.UnixNano()-at <= int64(f.o.MaxStaleness) {
		return nil
	}
	return ErrStale
}

// advance publishes a new applied (or known) revision to waiters.
func (f *fleet) advance() {
	f.mu.Lock()
	close(f.advanced)
	f.advanced = make(chan struct{})
	f.mu.Unlock()
}

func (f *fleet) advancedCh() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.advanced
}

// waitApplied waits until the mirror applied rev (or ctx ends).
func (f *fleet) waitApplied(ctx context.Context, rev int64) bool {
	for {
		ch := f.advancedCh()
		if f.applied.Load() >= rev {
			return true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

// waitKnown waits until the mirror is known current at rev or later.
func (f *fleet) waitKnown(ctx context.Context, rev int64) bool {
	for {
		ch := f.advancedCh()
		if max(f.applied.Load(), f.known.Load()) >= rev {
			return true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

// waitFresh waits for the first sign that the mirror is current (a
// resync, or a progress notification of the watch).
func (f *fleet) waitFresh(ctx context.Context) bool {
	for {
		ch := f.advancedCh()
		if f.freshAt.Load() != 0 {
			return true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

// maxRetries bounds how often a write transaction runs again after losing
// to a concurrent change.
const maxRetries = 16

// revokeOps are the write transactions queued in the outbox when etcd
// cannot be reached: revocation is monotonic, so applying it here first
// and in etcd later is safe.
var revokeOps = map[string]bool{"revoke_pat": true, "revoke_session": true, "revoke_user_sessions": true}

// update runs fn as an optimistic transaction against etcd (see fleetTx)
// and returns once the mirror has applied it, so the caller reads its own
// write. A transaction that writes nothing shared commits nothing: it read
// a consistent snapshot.
func (f *fleet) update(op string, fn func(*Tx) error) error {
	for attempt := 0; ; attempt++ {
		var ft *fleetTx
		err := f.s.db.View(func(btx *bolt.Tx) error {
			tx := &Tx{Tx: btx}
			ft = newFleetTx(tx)
			tx.f = ft
			return fn(tx)
		})
		if err != nil {
			return err
		}
		shared, local := ft.sharedWrites()
		if len(shared) == 0 {
			return f.applyLocal(ft, local, 0)
		}
		if f.cutOff() {
			return f.unavailable(op, ft, shared, local, errors.New("no word from etcd"))
		}
		cmps, ops := ft.txn(f.o.Prefix, shared)
		if len(cmps) > f.o.MaxTxnOps || len(ops) > f.o.MaxTxnOps {
			return fmt.Errorf("%s: %w: %d compares and %d writes, the limit is %d (raise etcd's --max-txn-ops)", op, ErrTxnTooLarge, len(cmps), len(ops), f.o.MaxTxnOps)
		}
		ctx, cancel := context.WithTimeout(f.ctx, f.o.WriteTimeout)
		resp, err := f.cli.Txn(clientv3.WithRequireLeader(ctx)).If(cmps...).Then(ops...).Commit()
		cancel()
		if err != nil {
			if isUnavailable(err) {
				return f.unavailable(op, ft, shared, local, err)
			}
			return fmt.Errorf("%s: etcd: %w", op, err)
		}
		if !resp.Succeeded {
			f.conflicts.Add(1)
			if attempt >= maxRetries {
				return fmt.Errorf("%s: %w", op, ErrConflict)
			}
			// Retry on a mirror that has seen what beat us.
			ctx, cancel := context.WithTimeout(f.ctx, f.o.WriteTimeout)
			_ = f.cli.RequestProgress(ctx)
			f.waitKnown(ctx, resp.Header.Revision)
			cancel()
			continue
		}
		rev := resp.Header.Revision
		ctx, cancel = context.WithTimeout(f.ctx, f.o.WriteTimeout)
		ok := f.waitApplied(ctx, rev)
		cancel()
		if !ok {
			f.log.Warn("write committed to etcd but not yet mirrored", zap.String("op", op), zap.Int64("revision", rev))
		}
		return f.applyLocal(ft, local, rev)
	}
}

// unavailable answers a write etcd did not take: a revoke is applied to
// the mirror and queued (outbox.go); anything else fails closed.
func (f *fleet) unavailable(op string, ft *fleetTx, shared, local []*fleetWrite, cause error) error {
	if revokeOps[op] {
		return f.queueRevoke(ft, shared, local)
	}
	return fmt.Errorf("%s: %w (%v)", op, ErrUnavailable, cause)
}

// applyLocal writes what a committed transaction keeps on this edge: its
// audit events, tagged with this edge and the revision the commit made,
// and its writes to local buckets.
func (f *fleet) applyLocal(ft *fleetTx, local []*fleetWrite, rev int64) error {
	if len(local) == 0 && len(ft.events) == 0 {
		return nil
	}
	return f.s.localUpdate(func(tx *Tx) error {
		for _, w := range local {
			b := mirrorBucket(tx, w.bucket)
			if b == nil {
				return fmt.Errorf("local bucket %s missing", w.bucket)
			}
			var err error
			if w.deleted {
				err = b.Delete(w.key)
			} else {
				err = b.Put(w.key, w.val)
			}
			if err != nil {
				return err
			}
		}
		for _, e := range ft.events {
			e.Edge, e.Revision = f.o.EdgeID, rev
			if err := f.s.unsafeAudit(tx, e); err != nil {
				return err
			}
		}
		return nil
	})
}

// isUnavailable tells an unreachable or leaderless cluster (retry later,
// fail closed now) from a refused request.
func isUnavailable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled:
		return true
	}
	return false
}

// mirrorBucket opens bucket path ("meta/signing_keys") in a bbolt-mode tx.
func mirrorBucket(tx *Tx, path string) *Bucket {
	var b *Bucket
	for i, part := range splitPath(path) {
		if i == 0 {
			b = tx.Bucket([]byte(part))
		} else if b != nil {
			b = b.Bucket([]byte(part))
		}
	}
	return b
}

func splitPath(path string) []string {
	if nested, ok := strings.CutPrefix(path, "meta/"); ok {
		return []string{"meta", nested}
	}
	return []string{path}
}

// nestedMeta are the buckets nested in meta.
var nestedMeta = []string{"meta/signing_keys", "meta/assertion_keys"}
