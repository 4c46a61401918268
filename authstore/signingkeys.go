package authstore

import (
	"bytes"
	"crypto/rand"
	"fmt"
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
// creating the store's first key on first use. Keys live in the store, so
// sessions survive restarts and reloads; they never leave it: a JWT from
// another edge's bbolt store does not verify here, while in fleet mode the
// keys are etcd's and every edge of the fleet shares them.
func (s *Store) currentSigningKey() (*signingKey, error) {
	if k := s.sess.current.Load(); k != nil {
		return k, nil
	}
	var k signingKey
	err := s.update("signing_key", func(tx *Tx) error {
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

// RotateSigningKey replaces every session signing key with a new one and
// returns its kid, for an operator who fears a key leaked (a copied store
// file or backup) or rotates on a schedule. The old keys are deleted in
// the same transaction and forgotten before RotateSigningKey returns: a
// leaked key must not keep signing, so every session JWT signed before is
// refused. Browsers log in again; CLI sessions get a new access token with
// their refresh token, which does not depend on the key.
func (s *Store) RotateSigningKey(actor Actor) (string, error) {
	var k signingKey
	err := s.update("rotate_signing_key", func(tx *Tx) error {
		keys := tx.Bucket(bucketMeta).Bucket(bucketSigningKeys)
		var old [][]byte
		if err := keys.ForEach(func(kid, _ []byte) error {
			old = append(old, bytes.Clone(kid))
			return nil
		}); err != nil {
			return err
		}
		for _, kid := range old {
			if err := keys.Delete(kid); err != nil {
				return err
			}
		}
		var err error
		if k, err = unsafeAddSigningKey(tx); err != nil {
			return err
		}
		return s.unsafeAudit(tx, Event{Action: ActionSigningKeyRotated, Actor: actor, Detail: k.kid})
	})
	if err != nil {
		return "", fmt.Errorf("rotate session signing key: %w", err)
	}
	s.sess.keysMu.Lock()
	s.sess.keys = map[string][]byte{k.kid: k.key}
	s.sess.keysMu.Unlock()
	s.sess.current.Store(&k)
	s.sess.jwts.clear()
	return k.kid, nil
}

func unsafeAddSigningKey(tx *Tx) (signingKey, error) {
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
	err := s.view("signing_key", func(tx *Tx) error {
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
