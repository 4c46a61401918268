package authstore

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/gatehouse/gatehouse/internal/clock"
	bolterrors "go.etcd.io/bbolt/errors"
)

// schemaVersion is the layout this binary writes (see buckets.go).
const schemaVersion = 3

// Outcomes callers branch on.
var (
	ErrNotFound      = errors.New("not found")
	ErrExists        = errors.New("already exists")
	ErrRevoked       = errors.New("revoked")
	ErrExpired       = errors.New("expired")
	ErrUserDisabled  = errors.New("user disabled")
	ErrUnknownToken  = errors.New("unknown token")
	ErrLocked        = errors.New("store is locked by another process")
	ErrInvalidRecord = errors.New("invalid record")
)

// Options tune a Store. The zero value is usable.
type Options struct {
	// Timeout bounds the wait for the file lock. Default: 3s.
	Timeout time.Duration
	// Now is the clock; tests replace it. Default: internal/clock's, the
	// wall clock unless a test stopped it.
	Now func() time.Time
	// CacheSize bounds each read-through cache (verified PATs, users,
	// sessions). Default: 100000 entries.
	CacheSize int
	// TouchInterval is how often last-used stamps are flushed. Default: 10s.
	TouchInterval time.Duration
	// ReadOnly opens the file for reading only (backups, checks).
	ReadOnly bool
	// AuditRetention is how long audit events are kept; older ones are
	// pruned, at most hourly. Default: 180 days; negative keeps them
	// forever.
	AuditRetention time.Duration
	// Fleet, if set, makes etcd the source of truth and the file at the
	// store's path this edge's mirror of it (fleet.go). Nil: the
	// single-edge bbolt store.
	Fleet *FleetOptions
	// Observe, if set, is told the duration of every transaction by
	// operation (e.g. "verify_pat", "poll_device"), for latency metrics.
	// Cache hits make no transaction and are not reported.
	Observe func(op string, d time.Duration)
}

// Store is an open credential store.
type Store struct {
	db   *bolt.DB
	path string
	now  func() time.Time

	pats     *cache[TokenHash, *patEntry]
	users    *cache[string, *User]
	sessions *cache[string, *Session]

	touches  *toucher
	upkeep   upkeep // retention.go
	observer func(op string, d time.Duration)
	polls    *pollTracker
	sess     sessionState // sessions.go, jwt.go, signingkeys.go
	fleet    *fleet       // nil: the bbolt engine

	assertionKeys assertionKeyState // assertionkeys.go

	closeOnce sync.Once
}

// Open opens (creating if needed) the store at path, migrating it to the
// current schema. A file held by another process fails within
// Options.Timeout with ErrLocked and the path in the message.
func Open(path string, o Options) (*Store, error) {
	if o.Timeout <= 0 {
		o.Timeout = 3 * time.Second
	}
	if o.Now == nil {
		o.Now = clock.Now
	}
	if o.CacheSize <= 0 {
		o.CacheSize = 100_000
	}
	if o.TouchInterval <= 0 {
		o.TouchInterval = 10 * time.Second
	}
	if o.AuditRetention == 0 {
		o.AuditRetention = DefaultAuditRetention
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if !o.ReadOnly {
		if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
			return nil, fmt.Errorf("open store %s: %w", abs, err)
		}
	}
	db, err := bolt.Open(abs, 0o600, &bolt.Options{Timeout: o.Timeout, ReadOnly: o.ReadOnly})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("open store %s: %w (is another Caddy running with this store? use 'caddy reload', or the admin commands, which go through the running server)", abs, ErrLocked)
		}
		return nil, fmt.Errorf("open store %s: %w", abs, err)
	}
	s := &Store{
		db:       db,
		path:     abs,
		now:      o.Now,
		pats:     newCache[TokenHash, *patEntry](o.CacheSize, func(h TokenHash) uint32 { return uint32(h[0]) }),
		users:    newCache[string, *User](o.CacheSize, stringShard),
		sessions: newCache[string, *Session](o.CacheSize, stringShard),
		polls:    &pollTracker{m: map[TokenHash]*pollState{}},
		observer: o.Observe,
		upkeep:   upkeep{auditRetention: o.AuditRetention},
	}
	s.sess.init(o.CacheSize)
	if o.Fleet != nil && !o.ReadOnly {
		f, err := openFleet(s, o.Fleet)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("open fleet store (mirror %s): %w", abs, err)
		}
		s.fleet = f
		// The schema lives in etcd and migrates once for the fleet; a
		// mirror cut off at start serves the schema it holds.
		if !f.cutOff() {
			if err := s.migrate(); err != nil {
				f.close()
				db.Close()
				return nil, fmt.Errorf("open fleet store: %w", err)
			}
		}
		s.touches = startToucher(s, o.TouchInterval)
	} else if !o.ReadOnly {
		if err := s.migrate(); err != nil {
			db.Close()
			return nil, fmt.Errorf("open store %s: %w", abs, err)
		}
		s.touches = startToucher(s, o.TouchInterval)
	}
	return s, nil
}

// Path is the absolute path of the store file.
func (s *Store) Path() string { return s.path }

// Close flushes pending last-used stamps and closes the file.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		if s.touches != nil {
			s.touches.stop()
		}
		if s.fleet != nil {
			s.fleet.close()
		}
		err = s.db.Close()
	})
	return err
}

// migrations upgrade a store one schema version at a time; entry i takes
// version i to i+1. Version 0 is a new, empty file.
var migrations = []func(tx *Tx) error{
	func(tx *Tx) error {
		for _, name := range topBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		_, err := tx.Bucket(bucketMeta).CreateBucketIfNotExists(bucketSigningKeys)
		return err
	},
	migrateAgentLogins, // logins.go
	migrateIdentities,  // identities.go
}

func (s *Store) migrate() error {
	return s.update("migrate", func(tx *Tx) error {
		var version uint64
		if meta := tx.Bucket(bucketMeta); meta != nil {
			if v := meta.Get(keySchemaVersion); len(v) == 8 {
				version = binary.BigEndian.Uint64(v)
			}
		}
		if version > uint64(len(migrations)) {
			return fmt.Errorf("schema version %d is newer than this binary supports (%d)", version, len(migrations))
		}
		for v := version; v < uint64(len(migrations)); v++ {
			if err := migrations[v](tx); err != nil {
				return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
			}
		}
		var buf [8]byte
		binary.BigEndian.PutUint64(buf[:], uint64(len(migrations)))
		return tx.Bucket(bucketMeta).Put(keySchemaVersion, buf[:])
	})
}

// getJSON decodes the record at key into v; it reports ErrNotFound when the
// key is absent. Decoding copies, so v outlives the transaction.
func getJSON(b *Bucket, key []byte, v any) error {
	raw := b.Get(key)
	if raw == nil {
		return ErrNotFound
	}
	return decodeJSON(raw, v)
}

func decodeJSON(raw []byte, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidRecord, err)
	}
	return nil
}

func putJSON(b *Bucket, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode record: %w", err)
	}
	return b.Put(key, raw)
}

// view runs a read transaction, reporting its duration as op. Reads are
// local with either engine: in fleet mode they read the mirror.
func (s *Store) view(op string, fn func(*Tx) error) error {
	defer s.observe(op, time.Now())
	return s.localView(fn)
}

// update runs a write transaction, reporting its duration as op: a bbolt
// transaction committed with fsync, or in fleet mode an etcd transaction
// that the mirror has applied when update returns (fleet.go). fn may run
// more than once in fleet mode (a conflicting write elsewhere retries it),
// so it must set, not accumulate, what it hands back.
func (s *Store) update(op string, fn func(*Tx) error) error {
	defer s.observe(op, time.Now())
	if s.fleet != nil {
		return s.fleet.update(op, fn)
	}
	return s.localUpdate(fn)
}

// localView is a bbolt read transaction on the store's own file.
func (s *Store) localView(fn func(*Tx) error) error {
	return s.db.View(func(btx *bolt.Tx) error { return fn(&Tx{Tx: btx}) })
}

// localUpdate is a bbolt write transaction on the store's own file (in
// fleet mode, the mirror's local buckets and its upkeep).
func (s *Store) localUpdate(fn func(*Tx) error) error {
	return s.db.Update(func(btx *bolt.Tx) error { return fn(&Tx{Tx: btx}) })
}

func (s *Store) observe(op string, start time.Time) {
	if s.observer != nil {
		s.observer(op, time.Since(start))
	}
}
