package authstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// MigrateReport is what MigrateToEtcd did: keys copied, keys etcd held
// already with the same value (a rerun, or a resumed migration), keys it
// held with another value (left alone and listed), and the count and
// SHA-256 over the source's keys and values, which etcd matched.
type MigrateReport struct {
	Keys      int      `json:"keys"`
	Copied    int      `json:"copied"`
	Present   int      `json:"present"`
	Differing []string `json:"differing,omitempty"`
	Checksum  string   `json:"checksum"`
}

// migrateBatch is how many keys one etcd transaction creates.
const migrateBatch = 64

// MigrateToEtcd copies the bbolt store at path (opened read-only: stop
// Caddy first, or migrate a backup) into etcd under o.Prefix, for fleet
// mode. Every credential bucket is copied; the audit trail stays with the
// file (each edge keeps its own). It is idempotent and resumable: a key
// is only ever created (compare create revision 0), one etcd already holds
// with the same value counts as present, one it holds with another value
// is left alone and reported. It ends by reading every key back and
// comparing count and checksum; a mismatch is an error.
func MigrateToEtcd(ctx context.Context, path string, opts FleetOptions) (MigrateReport, error) {
	var rep MigrateReport
	o, err := opts.withDefaults()
	if err != nil {
		return rep, err
	}
	src, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		return rep, err
	}
	defer src.Close()
	type kv struct{ key, val []byte }
	var kvs []kv
	err = src.db.View(func(btx *bolt.Tx) error {
		for _, bp := range mirrorBuckets {
			if bp == string(bucketEdges) {
				continue
			}
			b := mirrorBucket(&Tx{Tx: btx}, bp)
			if b == nil {
				continue // an older schema without it
			}
			if err := b.bb.ForEach(func(k, v []byte) error {
				if v != nil { // nil: a nested bucket, copied on its own
					kvs = append(kvs, kv{[]byte(o.Prefix + relKey(bp, k)), bytes.Clone(v)})
				}
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("migrate: read %s: %w", path, err)
	}
	slices.SortFunc(kvs, func(a, b kv) int { return bytes.Compare(a.key, b.key) })
	rep.Keys = len(kvs)

	cli, err := clientv3.New(clientv3.Config{Endpoints: o.Endpoints, DialTimeout: o.DialTimeout, TLS: o.TLS,
		Username: o.Username, Password: o.Password, Logger: o.Logger.Named("etcd")})
	if err != nil {
		return rep, fmt.Errorf("migrate: connect to etcd: %w", err)
	}
	defer cli.Close()

	existing, err := readPrefix(ctx, cli, o.Prefix)
	if err != nil {
		return rep, err
	}
	var todo []kv
	for _, e := range kvs {
		cur, ok := existing[string(e.key)]
		switch {
		case !ok:
			todo = append(todo, e)
		case bytes.Equal(cur, e.val):
			rep.Present++
		default:
			rep.Differing = append(rep.Differing, string(e.key[len(o.Prefix):]))
		}
	}
	for start := 0; start < len(todo); start += migrateBatch {
		batch := todo[start:min(start+migrateBatch, len(todo))]
		cmps := make([]clientv3.Cmp, 0, len(batch))
		ops := make([]clientv3.Op, 0, len(batch))
		for _, e := range batch {
			cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(string(e.key)), "=", 0))
			ops = append(ops, clientv3.OpPut(string(e.key), string(e.val)))
		}
		tctx, cancel := context.WithTimeout(ctx, o.WriteTimeout)
		resp, err := cli.Txn(tctx).If(cmps...).Then(ops...).Commit()
		cancel()
		if err != nil {
			return rep, fmt.Errorf("migrate: after %d of %d keys (rerun to resume): %w", rep.Copied, len(todo), err)
		}
		if !resp.Succeeded {
			return rep, fmt.Errorf("migrate: keys appeared in etcd while migrating (is an edge writing already?); rerun to resume")
		}
		rep.Copied += len(batch)
	}

	// Verify: etcd holds every source key with its value (differing ones
	// excepted, as reported).
	after, err := readPrefix(ctx, cli, o.Prefix)
	if err != nil {
		return rep, err
	}
	differ := map[string]bool{}
	for _, k := range rep.Differing {
		differ[o.Prefix+k] = true
	}
	want, got := sha256.New(), sha256.New()
	n := 0
	for _, e := range kvs {
		if differ[string(e.key)] {
			continue
		}
		n++
		want.Write(e.key)
		want.Write(e.val)
		if v, ok := after[string(e.key)]; ok {
			got.Write(e.key)
			got.Write(v)
		}
	}
	rep.Checksum = hex.EncodeToString(want.Sum(nil))
	if !bytes.Equal(want.Sum(nil), got.Sum(nil)) {
		return rep, fmt.Errorf("migrate: verification failed: etcd does not hold the %d keys copied as they are in %s", n, path)
	}
	return rep, nil
}

// readPrefix reads every key under prefix, paged, at one revision.
func readPrefix(ctx context.Context, cli *clientv3.Client, prefix string) (map[string][]byte, error) {
	out := map[string][]byte{}
	end := clientv3.GetPrefixRangeEnd(prefix)
	from := prefix
	var rev int64
	for {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(resyncPage)}
		if rev != 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		gctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		resp, err := cli.Get(gctx, from, opts...)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("read etcd %s: %w", prefix, err)
		}
		rev = resp.Header.Revision
		for _, kv := range resp.Kvs {
			out[string(kv.Key)] = kv.Value
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return out, nil
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}
