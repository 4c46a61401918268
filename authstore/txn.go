package authstore

import (
	"bytes"
	"errors"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// Tx is a transaction over the store's buckets as the store's code sees
// it. With the bbolt engine it is the bbolt transaction itself (every
// method passes straight through). In fleet mode a write transaction reads
// the local mirror at its applied revision and records what it read and
// what it would write (fleetTx); the engine then commits the writes to
// etcd in one transaction that compares the revision of everything read
// (fleet.go), so the code of the ~25 write transactions is the same for
// both engines.
type Tx struct {
	*bolt.Tx
	f *fleetTx // nil: reads and writes go to the bbolt transaction
}

// Bucket returns the named top-level bucket, nil if it does not exist.
func (tx *Tx) Bucket(name []byte) *Bucket {
	b := tx.Tx.Bucket(name)
	if b == nil {
		return nil
	}
	return &Bucket{bb: b, tx: tx, path: string(name)}
}

// CreateBucketIfNotExists returns the named top-level bucket, creating it
// in bbolt mode. In fleet mode buckets are implicit in etcd's key space
// and the mirror creates every bucket it knows when it opens.
func (tx *Tx) CreateBucketIfNotExists(name []byte) (*Bucket, error) {
	if tx.f != nil {
		if b := tx.Bucket(name); b != nil {
			return b, nil
		}
		return nil, errors.New("fleet mirror: unknown bucket " + string(name))
	}
	b, err := tx.Tx.CreateBucketIfNotExists(name)
	if err != nil {
		return nil, err
	}
	return &Bucket{bb: b, tx: tx, path: string(name)}, nil
}

// Bucket is one bucket of a Tx.
type Bucket struct {
	bb   *bolt.Bucket
	tx   *Tx
	path string // "users", or "meta/signing_keys" for a nested bucket
}

// Bucket returns the nested bucket name, nil if it does not exist.
func (b *Bucket) Bucket(name []byte) *Bucket {
	nb := b.bb.Bucket(name)
	if nb == nil {
		return nil
	}
	return &Bucket{bb: nb, tx: b.tx, path: b.path + "/" + string(name)}
}

// CreateBucketIfNotExists returns the nested bucket name, creating it in
// bbolt mode (see Tx.CreateBucketIfNotExists).
func (b *Bucket) CreateBucketIfNotExists(name []byte) (*Bucket, error) {
	if b.tx.f != nil {
		if nb := b.Bucket(name); nb != nil {
			return nb, nil
		}
		return nil, errors.New("fleet mirror: unknown bucket " + b.path + "/" + string(name))
	}
	nb, err := b.bb.CreateBucketIfNotExists(name)
	if err != nil {
		return nil, err
	}
	return &Bucket{bb: nb, tx: b.tx, path: b.path + "/" + string(name)}, nil
}

// Stats are bbolt's bucket statistics; in fleet mode they describe the
// mirror without the transaction's own writes (only reads use them).
func (b *Bucket) Stats() bolt.BucketStats { return b.bb.Stats() }

// Get returns the value at key, nil if absent. In fleet mode the
// transaction's own writes are seen first, and a read of a shared bucket
// is recorded for the commit's compare.
func (b *Bucket) Get(key []byte) []byte {
	f := b.tx.f
	if f == nil {
		return b.bb.Get(key)
	}
	k := relKey(b.path, key)
	if w, ok := f.writes[k]; ok {
		return w.val
	}
	v := b.bb.Get(key)
	f.read(b, k)
	return v
}

// Put sets key to value (bbolt mode) or records the write (fleet mode).
func (b *Bucket) Put(key, value []byte) error {
	f := b.tx.f
	if f == nil {
		return b.bb.Put(key, value)
	}
	if len(key) == 0 {
		return errors.New("key required")
	}
	f.write(b, key, bytes.Clone(value), false)
	return nil
}

// Delete removes key (bbolt mode) or records the delete (fleet mode).
func (b *Bucket) Delete(key []byte) error {
	f := b.tx.f
	if f == nil {
		return b.bb.Delete(key)
	}
	f.write(b, key, nil, true)
	return nil
}

// NextSequence is bbolt's; in fleet mode only the local buckets' code
// paths could use it, and they go through unsafeAudit, which defers the
// event instead.
func (b *Bucket) NextSequence() (uint64, error) {
	if b.tx.f != nil {
		return 0, errors.New("fleet mode: no sequences in bucket " + b.path)
	}
	return b.bb.NextSequence()
}

// ForEach calls fn for every key of the bucket in order, as Cursor sees
// them.
func (b *Bucket) ForEach(fn func(k, v []byte) error) error {
	if b.tx.f == nil {
		return b.bb.ForEach(fn)
	}
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

// Cursor returns a cursor over the bucket. In fleet mode it merges the
// mirror with the transaction's writes and records the key range it
// covered, so the commit fails if any key in that range changed (an
// insert the cursor would have seen, or a change to one it saw).
func (b *Bucket) Cursor() *Cursor {
	c := &Cursor{c: b.bb.Cursor(), b: b}
	if f := b.tx.f; f != nil {
		c.ov = f.overlay(b.path)
		if !f.blind {
			f.cursors = append(f.cursors, c)
		}
	}
	return c
}

// Cursor walks a Bucket. Backward moves (Last, Prev) are bbolt's only:
// no write transaction walks backwards.
type Cursor struct {
	c *bolt.Cursor
	b *Bucket

	// Fleet mode: the transaction's writes to this bucket in key order,
	// the bbolt cursor's pending item and the overlay's position, and the
	// range covered: lo (nil before a first move), hi the last key
	// returned, done when the walk ran off the end.
	ov       []overlayEntry
	bk, bv   []byte
	oi       int
	lo, hi   []byte
	started  bool
	done     bool
	backward bool
}

type overlayEntry struct {
	key     []byte
	val     []byte
	deleted bool
}

// First moves to the first key.
func (c *Cursor) First() ([]byte, []byte) {
	if c.b.tx.f == nil {
		return c.c.First()
	}
	c.start(nil)
	c.bk, c.bv = c.c.First()
	c.oi = 0
	return c.merged()
}

// Seek moves to key or the first key after it.
func (c *Cursor) Seek(seek []byte) ([]byte, []byte) {
	if c.b.tx.f == nil {
		return c.c.Seek(seek)
	}
	c.start(seek)
	c.bk, c.bv = c.c.Seek(seek)
	c.oi, _ = slices.BinarySearchFunc(c.ov, seek, func(e overlayEntry, k []byte) int { return bytes.Compare(e.key, k) })
	return c.merged()
}

// Next moves to the next key.
func (c *Cursor) Next() ([]byte, []byte) {
	if c.b.tx.f == nil {
		return c.c.Next()
	}
	return c.merged()
}

// Last moves to the last key (read transactions only in fleet mode).
func (c *Cursor) Last() ([]byte, []byte) {
	if c.b.tx.f != nil {
		c.backward = true
	}
	return c.c.Last()
}

// Prev moves to the previous key (read transactions only in fleet mode).
func (c *Cursor) Prev() ([]byte, []byte) {
	if c.b.tx.f != nil {
		c.backward = true
	}
	return c.c.Prev()
}

func (c *Cursor) start(lo []byte) {
	if !c.started || bytes.Compare(lo, c.lo) < 0 {
		c.lo = bytes.Clone(lo)
	}
	c.started, c.done, c.hi = true, false, nil
}

// merged returns the next item of the mirror and the overlay merged (the
// overlay wins on equal keys, its deletes hide the mirror's key), and
// advances past it. The bbolt cursor's pending item is in c.bk.
func (c *Cursor) merged() ([]byte, []byte) {
	for {
		var ok *overlayEntry
		if c.oi < len(c.ov) {
			ok = &c.ov[c.oi]
		}
		switch {
		case c.bk == nil && ok == nil:
			c.done = true
			return nil, nil
		case ok == nil || (c.bk != nil && bytes.Compare(c.bk, ok.key) < 0):
			k, v := c.bk, c.bv
			c.bk, c.bv = c.c.Next()
			if v == nil { // a nested bucket, not a key of this one
				continue
			}
			c.hi = k
			c.b.tx.f.read(c.b, relKey(c.b.path, k))
			return k, v
		default:
			if c.bk != nil && bytes.Equal(c.bk, ok.key) {
				c.bk, c.bv = c.c.Next()
			}
			c.oi++
			if ok.deleted {
				continue
			}
			c.hi = ok.key
			return ok.key, ok.val
		}
	}
}

// relKey is the etcd key of key in bucket path, without the fleet's
// prefix: "users/<id>", "meta/signing_keys/<kid>".
func relKey(path string, key []byte) string {
	return path + "/" + string(key)
}
