package authstore

import (
	"bytes"
	"errors"
	"fmt"
)

// readRecord reads the JSON record at key of bucket in its own read
// transaction, reported as op.
func readRecord[T any](s *Store, op string, bucket, key []byte) (*T, error) {
	v := new(T)
	err := s.view(op, func(tx *Tx) error {
		return getJSON(tx.Bucket(bucket), key, v)
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// unsafeListRecords decodes every record of bucket records or, when owner
// is set, those its index names (keys owner|child; recordKey maps a child
// to its record's key, nil meaning the index entry is stale and skipped).
func unsafeListRecords[T any](tx *Tx, records, index []byte, owner string, recordKey func(child []byte) []byte) ([]*T, error) {
	var out []*T
	b := tx.Bucket(records)
	if owner == "" {
		err := b.ForEach(func(_, v []byte) error {
			rec := new(T)
			if err := decodeJSON(v, rec); err != nil {
				return err
			}
			out = append(out, rec)
			return nil
		})
		return out, err
	}
	prefix := indexKey(owner, "")
	c := tx.Bucket(index).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		key := recordKey(k[len(prefix):])
		if key == nil {
			continue
		}
		rec := new(T)
		if err := getJSON(b, key, rec); err != nil {
			if errors.Is(err, ErrNotFound) {
				continue
			}
			return nil, fmt.Errorf("index entry %s: %w", k, err)
		}
		out = append(out, rec)
	}
	return out, nil
}
