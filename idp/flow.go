package idp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
)

// FlowTTL is how long a started sign-in may take to come back from the
// provider.
const FlowTTL = 10 * time.Minute

// maxConsumed bounds the set of used states; it holds only flows that
// came back with a valid cookie within FlowTTL, so it is reached only
// under a flood of real sign-ins, and then the oldest are forgotten
// first (they expire soonest anyway).
const maxConsumed = 100_000

// flow is what a started sign-in must find again at its callback. It
// travels in the browser, sealed (AES-256-GCM under a key that never
// leaves the process), so nothing is kept per started flow on the
// server: a flood of starts costs no memory.
type flow struct {
	Provider string `json:"p"`
	State    string `json:"s"`
	Nonce    string `json:"n,omitempty"`
	Verifier string `json:"v"`
	Next     string `json:"x"`
	Expires  int64  `json:"e"` // unix seconds
}

// Flows seals flow cookies and remembers which flows were used, so that
// a flow cookie works once. One Flows is shared by every config
// generation of a store (a reload must not break sign-ins under way,
// nor forget which were used).
type Flows struct {
	aead cipher.AEAD

	mu       sync.Mutex
	consumed map[string]int64 // state -> expiry, unix seconds
}

// NewFlows makes a Flows with a fresh random key.
func NewFlows() *Flows {
	key := make([]byte, 32)
	rand.Read(key) // never fails (crypto/rand)
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // a 32-byte key is always valid
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return &Flows{aead: aead, consumed: map[string]int64{}}
}

var (
	errFlowTampered = errors.New("flow cookie is not one this server sealed")
	errFlowExpired  = errors.New("flow expired")
)

// seal encodes f for the cookie; the provider's name is bound in as
// associated data, so a flow started for one provider is not accepted by
// another's callback.
func (fs *Flows) seal(f *flow) (string, error) {
	plain, err := json.Marshal(f)
	if err != nil {
		return "", fmt.Errorf("seal flow: %w", err)
	}
	nonce := make([]byte, fs.aead.NonceSize())
	rand.Read(nonce)
	out := fs.aead.Seal(nonce, nonce, plain, []byte(f.Provider))
	return base64.RawURLEncoding.EncodeToString(out), nil
}

// open decodes a cookie value sealed for provider, checking expiry.
func (fs *Flows) open(value, provider string, now time.Time) (*flow, error) {
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil || len(raw) < fs.aead.NonceSize() {
		return nil, errFlowTampered
	}
	n := fs.aead.NonceSize()
	plain, err := fs.aead.Open(nil, raw[:n], raw[n:], []byte(provider))
	if err != nil {
		return nil, errFlowTampered
	}
	var f flow
	if err := json.Unmarshal(plain, &f); err != nil || f.Provider != provider || f.State == "" {
		return nil, errFlowTampered
	}
	if now.Unix() >= f.Expires {
		return &f, errFlowExpired
	}
	return &f, nil
}

// consume marks f used; false if it was used already.
func (fs *Flows) consume(f *flow, now time.Time) bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if _, used := fs.consumed[f.State]; used {
		return false
	}
	if len(fs.consumed) >= maxConsumed {
		fs.pruneLocked(now.Unix())
	}
	fs.consumed[f.State] = f.Expires
	return true
}

// pruneLocked forgets used flows that expired (their cookie is refused
// as expired anyway); if none had, the one expiring soonest.
func (fs *Flows) pruneLocked(now int64) {
	oldest, oldestExp := "", int64(0)
	for s, exp := range fs.consumed {
		if exp <= now {
			delete(fs.consumed, s)
		} else if oldest == "" || exp < oldestExp {
			oldest, oldestExp = s, exp
		}
	}
	if len(fs.consumed) >= maxConsumed {
		delete(fs.consumed, oldest)
	}
}

// sameString compares two secrets of the flow in constant time.
func sameString(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
