package authstore

import (
	"bytes"
	"crypto/rand"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// signingKeyLen is the HMAC-SHA256 key size: the hash's block-sized
// security level, 256 bits from crypto/rand.
const signingKeyLen = 32

// signingKey is one HMAC key for session JWTs, named by its kid.
type signingKey struct {
	kid string
	key []byte
}

// currentSigningKey returns the key new session JWTs are signed with,
// creating this edge's first key on first use. Keys live in the store, so
// sessions survive restarts and reloads; they never leave it, so a JWT from
// another edge does not verify here.
func (s *Store) currentSigningKey() (*signingKey, error) {
	if k := s.sess.current.Load(); k != nil {
		return k, nil
	}
	var k signingKey
	err := s.update("signing_key", func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if kid := meta.Get(keySigningKey); kid != nil {
			if key := meta.Bucket(bucketSigningKeys).Get(kid); len(key) == signingKeyLen {
				k = signingKey{kid: string(kid), key: bytes.Clone(key)}
				return nil
			}
		}
		nk, err := unsafeAddSigningKey(tx)
		k = nk
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("session signing key: %w", err)
	}
	s.rememberKey(&k)
	s.sess.current.Store(&k)
	return &k, nil
}

// ActionSigningKeyRotated is the audit action of RotateSigningKey.
const ActionSigningKeyRotated = "signing_key.rotated"

// RotateSigningKey makes a new key current and returns its kid, for an
// operator who fears the current key leaked (a copied store file or
// backup) or rotates on a schedule. New session JWTs are signed with the
// new key; JWTs signed with older keys keep verifying until they expire,
// since the old keys stay in the store, so nobody is logged out. To end
// those sessions sooner, revoke them.
func (s *Store) RotateSigningKey(actor Actor) (string, error) {
	var k signingKey
	err := s.update("rotate_signing_key", func(tx *bolt.Tx) error {
		var err error
		if k, err = unsafeAddSigningKey(tx); err != nil {
			return err
		}
		return s.unsafeAudit(tx, Event{Action: ActionSigningKeyRotated, Actor: actor, Detail: k.kid})
	})
	if err != nil {
		return "", fmt.Errorf("rotate session signing key: %w", err)
	}
	s.rememberKey(&k)
	s.sess.current.Store(&k)
	return k.kid, nil
}

func unsafeAddSigningKey(tx *bolt.Tx) (signingKey, error) {
	kid, err := randomID("key_")
	if err != nil {
		return signingKey{}, err
	}
	key := make([]byte, signingKeyLen)
	if _, err := rand.Read(key); err != nil {
		return signingKey{}, fmt.Errorf("read random bytes: %w", err)
	}
	meta := tx.Bucket(bucketMeta)
	if err := meta.Bucket(bucketSigningKeys).Put([]byte(kid), key); err != nil {
		return signingKey{}, err
	}
	if err := meta.Put(keySigningKey, []byte(kid)); err != nil {
		return signingKey{}, err
	}
	return signingKey{kid: kid, key: key}, nil
}

func (s *Store) rememberKey(k *signingKey) {
	s.sess.keysMu.Lock()
	s.sess.keys[k.kid] = k.key
	s.sess.keysMu.Unlock()
}

// signingKeyByID returns the stored key named kid. Only keys this store
// holds are ever used to verify: a JWT cannot point at a key of its own
// choosing (jku, x5u, embedded jwk).
func (s *Store) signingKeyByID(kid string) ([]byte, error) {
	s.sess.keysMu.RLock()
	key, ok := s.sess.keys[kid]
	s.sess.keysMu.RUnlock()
	if ok {
		return key, nil
	}
	if kid == "" || len(kid) > 64 {
		return nil, ErrNotFound
	}
	err := s.view("signing_key", func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Bucket(bucketSigningKeys).Get([]byte(kid)); len(v) == signingKeyLen {
			key = bytes.Clone(v)
			return nil
		}
		return ErrNotFound
	})
	if err != nil {
		return nil, err
	}
	s.rememberKey(&signingKey{kid: kid, key: key})
	return key, nil
}
