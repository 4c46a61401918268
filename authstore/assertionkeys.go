package authstore

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Algorithms of assertion keys, as JWS names them (RFC 7518, RFC 8037).
const (
	AlgEdDSA = "EdDSA" // Ed25519
	AlgES256 = "ES256" // ECDSA P-256 with SHA-256
)

// DefaultAssertionOverlap is how long a rotated-out assertion key stays
// published: far beyond an assertion's lifetime (at most a minute) and a
// verifier's JWKS cache, so nothing signed before a rotation fails.
const DefaultAssertionOverlap = 24 * time.Hour

// ActionAssertionKeyRotated is the audit action of RotateAssertionKey.
const ActionAssertionKeyRotated = "assertion_key.rotated"

// AssertionKey is a key pair that signs the identity assertions handed to
// upstreams (package assertion). Unlike the session keys it is
// asymmetric: the public half is published (JWKS) so an upstream can
// verify; the private half never leaves the store.
type AssertionKey struct {
	// ID is the JWS kid.
	ID string `json:"id"`
	// Alg is AlgEdDSA or AlgES256.
	Alg string `json:"alg"`
	// Private is the PKCS #8 DER private key.
	Private   []byte    `json:"private"`
	CreatedAt time.Time `json:"created_at"`
	// RetiredAt is when a newer key replaced it (zero: it is current).
	RetiredAt time.Time `json:"retired_at,omitzero"`
	// PublishUntil is when a retired key leaves the JWKS.
	PublishUntil time.Time `json:"publish_until,omitzero"`

	signer crypto.Signer // parsed Private, set by parse
}

// Signer is the private key.
func (k *AssertionKey) Signer() crypto.Signer { return k.signer }

// Public is the public key.
func (k *AssertionKey) Public() crypto.PublicKey { return k.signer.Public() }

// Published reports whether the key belongs in the JWKS at now.
func (k *AssertionKey) Published(now time.Time) bool {
	return k.RetiredAt.IsZero() || now.Before(k.PublishUntil)
}

func (k *AssertionKey) parse() error {
	priv, err := x509.ParsePKCS8PrivateKey(k.Private)
	if err != nil {
		return fmt.Errorf("assertion key %s: %w", k.ID, err)
	}
	switch p := priv.(type) {
	case ed25519.PrivateKey:
		if k.Alg != AlgEdDSA {
			return fmt.Errorf("assertion key %s: an Ed25519 key marked %s: %w", k.ID, k.Alg, ErrInvalidRecord)
		}
		k.signer = p
	case *ecdsa.PrivateKey:
		if k.Alg != AlgES256 || p.Curve != elliptic.P256() {
			return fmt.Errorf("assertion key %s: an ECDSA key marked %s: %w", k.ID, k.Alg, ErrInvalidRecord)
		}
		k.signer = p
	default:
		return fmt.Errorf("assertion key %s: unsupported key type %T: %w", k.ID, priv, ErrInvalidRecord)
	}
	return nil
}

// ValidateAssertionAlg checks an algorithm name.
func ValidateAssertionAlg(alg string) error {
	switch alg {
	case AlgEdDSA, AlgES256:
		return nil
	}
	return fmt.Errorf("assertion algorithm %q: want %s or %s", alg, AlgEdDSA, AlgES256)
}

// assertionKeyState caches the current key per algorithm, so the request
// path reads no transaction.
type assertionKeyState struct {
	mu      sync.Mutex
	current map[string]*AssertionKey
}

// CurrentAssertionKey returns the key that signs assertions of alg,
// creating this edge's first one on first use.
func (s *Store) CurrentAssertionKey(alg string) (*AssertionKey, error) {
	if err := ValidateAssertionAlg(alg); err != nil {
		return nil, err
	}
	st := &s.assertionKeys
	st.mu.Lock()
	defer st.mu.Unlock()
	if k := st.current[alg]; k != nil {
		return k, nil
	}
	var k *AssertionKey
	err := s.update("assertion_key", func(tx *Tx) error {
		keys, all, err := unsafeAssertionKeys(tx)
		if err != nil {
			return err
		}
		for i := range all {
			if all[i].Alg == alg && all[i].RetiredAt.IsZero() {
				k = &all[i]
				return nil
			}
		}
		k, err = s.unsafeAddAssertionKey(keys, alg)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("assertion key: %w", err)
	}
	if st.current == nil {
		st.current = map[string]*AssertionKey{}
	}
	st.current[alg] = k
	return k, nil
}

// AssertionKeys lists every stored assertion key, oldest first: the
// current ones and those retired but still published (see Published).
func (s *Store) AssertionKeys() ([]AssertionKey, error) {
	var all []AssertionKey
	err := s.view("assertion_keys", func(tx *Tx) error {
		keys := tx.Bucket(bucketMeta).Bucket(bucketAssertionKeys)
		if keys == nil {
			return nil
		}
		var err error
		all, err = readAssertionKeys(keys)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("assertion keys: %w", err)
	}
	return all, nil
}

// RotateAssertionKey makes a new key of alg current and retires the old
// one, which stays published for overlap (0: DefaultAssertionOverlap) so
// assertions it signed still verify; keys whose overlap has ended are
// deleted. New assertions are signed with the new key at once.
func (s *Store) RotateAssertionKey(alg string, overlap time.Duration, actor Actor) (*AssertionKey, error) {
	if err := ValidateAssertionAlg(alg); err != nil {
		return nil, err
	}
	if overlap <= 0 {
		overlap = DefaultAssertionOverlap
	}
	st := &s.assertionKeys
	st.mu.Lock()
	defer st.mu.Unlock()
	now := s.now()
	var k *AssertionKey
	err := s.update("rotate_assertion_key", func(tx *Tx) error {
		keys, all, err := unsafeAssertionKeys(tx)
		if err != nil {
			return err
		}
		for i := range all {
			old := &all[i]
			switch {
			case old.Alg == alg && old.RetiredAt.IsZero():
				old.RetiredAt, old.PublishUntil = now, now.Add(overlap)
				if err := putAssertionKey(keys, old); err != nil {
					return err
				}
			case !old.Published(now):
				if err := keys.Delete([]byte(old.ID)); err != nil {
					return err
				}
			}
		}
		if k, err = s.unsafeAddAssertionKey(keys, alg); err != nil {
			return err
		}
		return s.unsafeAudit(tx, Event{Action: ActionAssertionKeyRotated, Actor: actor, Detail: k.ID + " " + alg})
	})
	if err != nil {
		return nil, fmt.Errorf("rotate assertion key: %w", err)
	}
	if st.current == nil {
		st.current = map[string]*AssertionKey{}
	}
	st.current[alg] = k
	return k, nil
}

func (s *Store) unsafeAddAssertionKey(keys *Bucket, alg string) (*AssertionKey, error) {
	kid, err := randomID("ak_")
	if err != nil {
		return nil, err
	}
	var priv any
	switch alg {
	case AlgEdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case AlgES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", alg, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	k := &AssertionKey{ID: kid, Alg: alg, Private: der, CreatedAt: s.now()}
	if err := k.parse(); err != nil {
		return nil, err
	}
	return k, putAssertionKey(keys, k)
}

// assertionKeyBucket is meta/assertion_keys, created on the first write:
// a store of an older binary simply has none yet, so no migration.
// unsafeAssertionKeys is the keys' bucket in a write transaction (made
// on first use) and every key in it, oldest first.
func unsafeAssertionKeys(tx *Tx) (*Bucket, []AssertionKey, error) {
	keys, err := tx.Bucket(bucketMeta).CreateBucketIfNotExists(bucketAssertionKeys)
	if err != nil {
		return nil, nil, err
	}
	all, err := readAssertionKeys(keys)
	return keys, all, err
}

func putAssertionKey(keys *Bucket, k *AssertionKey) error {
	v, err := json.Marshal(k)
	if err != nil {
		return err
	}
	return keys.Put([]byte(k.ID), v)
}

// readAssertionKeys decodes every key of the bucket, oldest first.
func readAssertionKeys(keys *Bucket) ([]AssertionKey, error) {
	var all []AssertionKey
	err := keys.ForEach(func(id, v []byte) error {
		var k AssertionKey
		if err := json.Unmarshal(v, &k); err != nil {
			return fmt.Errorf("assertion key %s: %w", id, errors.Join(ErrInvalidRecord, err))
		}
		k.Private = bytes.Clone(k.Private)
		if err := k.parse(); err != nil {
			return err
		}
		all = append(all, k)
		return nil
	})
	// Oldest first; a key created in the same instant as the one that
	// replaced it still sorts before it.
	slices.SortFunc(all, func(a, b AssertionKey) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		if ar, br := !a.RetiredAt.IsZero(), !b.RetiredAt.IsZero(); ar != br {
			if ar {
				return -1
			}
			return 1
		}
		return strings.Compare(a.ID, b.ID)
	})
	return all, err
}
