package authstore

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// fleetTx records one fleet-mode write transaction run against the mirror:
// the revision of every shared key it read (as the mirror last saw it),
// the key ranges its cursors covered, and the writes it would make. The
// commit (fleet.update) turns that into one etcd transaction: if every key
// read still has the revision it had and no key of a covered range was
// written since the mirror's applied revision, then the writes; otherwise
// nothing, and the transaction runs again on a fresher mirror. That is
// serializable optimistic concurrency (etcd's STM, plus ranges), so a state
// that may change once (a device code redeemed, a refresh token rotated,
// the setup token used) changes on one edge only.
type fleetTx struct {
	applied int64 // the mirror's applied revision when the snapshot was taken
	revs    *Bucket

	reads   map[string]int64 // relKey -> mod revision (0: absent)
	writes  map[string]*fleetWrite
	order   []string // write keys in first-written order
	cursors []*Cursor
	events  []Event // audit events, written locally after the commit
	// blind, while set, keeps reads out of the commit's compares: for
	// scans whose outcome stays right on a slightly old mirror (pruning
	// what ended long ago).
	blind bool
}

type fleetWrite struct {
	bucket  string
	key     []byte
	val     []byte
	deleted bool
}

func newFleetTx(tx *Tx) *fleetTx {
	f := &fleetTx{reads: map[string]int64{}, writes: map[string]*fleetWrite{}}
	if b := tx.Tx.Bucket(bucketFleet); b != nil {
		f.applied = int64(beUint64(b.Get(keyApplied)))
	}
	if b := tx.Tx.Bucket(bucketFleetRevs); b != nil {
		f.revs = &Bucket{bb: b, tx: &Tx{Tx: tx.Tx}, path: string(bucketFleetRevs)}
	}
	return f
}

// read records that the transaction read k of bucket b (local buckets are
// not compared: they are this edge's alone).
func (f *fleetTx) read(b *Bucket, k string) {
	if f.blind || !mirrored(b.path) {
		return
	}
	if _, ok := f.reads[k]; ok {
		return
	}
	var rev int64
	if f.revs != nil {
		rev = int64(beUint64(f.revs.bb.Get([]byte(k))))
	}
	f.reads[k] = rev
}

func (f *fleetTx) write(b *Bucket, key, val []byte, deleted bool) {
	k := relKey(b.path, key)
	if _, ok := f.writes[k]; !ok {
		f.order = append(f.order, k)
	}
	f.writes[k] = &fleetWrite{bucket: b.path, key: bytes.Clone(key), val: val, deleted: deleted}
}

// overlay is the transaction's writes to bucket path in key order.
func (f *fleetTx) overlay(path string) []overlayEntry {
	var out []overlayEntry
	for _, w := range f.writes {
		if w.bucket == path {
			out = append(out, overlayEntry{key: w.key, val: w.val, deleted: w.deleted})
		}
	}
	slices.SortFunc(out, func(a, b overlayEntry) int { return bytes.Compare(a.key, b.key) })
	return out
}

// sharedWrites are the writes that go to etcd; the rest (local buckets)
// are applied to this edge's file after the commit.
func (f *fleetTx) sharedWrites() (shared, local []*fleetWrite) {
	for _, k := range f.order {
		w := f.writes[k]
		if mirrored(w.bucket) {
			shared = append(shared, w)
		} else {
			local = append(local, w)
		}
	}
	return shared, local
}

// txn builds the etcd transaction's compares and writes under prefix.
func (f *fleetTx) txn(prefix string, shared []*fleetWrite) ([]clientv3.Cmp, []clientv3.Op) {
	cmps := make([]clientv3.Cmp, 0, len(f.reads)+len(f.cursors))
	keys := make([]string, 0, len(f.reads))
	for k := range f.reads {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(prefix+k), "=", f.reads[k]))
	}
	for _, c := range f.cursors {
		if !c.started || !mirrored(c.b.path) {
			continue
		}
		lo := prefix + relKey(c.b.path, c.lo)
		hi := clientv3.GetPrefixRangeEnd(prefix + c.b.path + "/")
		if !c.done && c.hi != nil {
			hi = prefix + relKey(c.b.path, c.hi) + "\x00"
		}
		// Every key in [lo, hi) must be unchanged since the snapshot: an
		// insert there is a key the cursor would have seen. (A delete of
		// a key it saw fails that key's own compare above.)
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(lo), "<", f.applied+1).WithRange(hi))
	}
	ops := make([]clientv3.Op, 0, len(shared))
	for _, w := range shared {
		k := prefix + relKey(w.bucket, w.key)
		if w.deleted {
			ops = append(ops, clientv3.OpDelete(k))
		} else {
			ops = append(ops, clientv3.OpPut(k, string(w.val)))
		}
	}
	return cmps, ops
}

// mirrored reports whether bucket path is shared through etcd; the audit
// trail and the fleet's own bookkeeping stay on the edge.
func mirrored(path string) bool {
	top, _, _ := strings.Cut(path, "/")
	switch top {
	case string(bucketAudit), string(bucketFleet), string(bucketFleetRevs), string(bucketFleetOutbox):
		return false
	}
	return true
}

func beUint64(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

func be64(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return b[:]
}
