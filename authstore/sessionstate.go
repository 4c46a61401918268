package authstore

import (
	"sync"
	"sync/atomic"
)

// sessionState is the in-memory side of sessions: verified session JWTs,
// signing keys read from the store, and TOTP steps already used.
type sessionState struct {
	// jwts maps a session JWT that verified once (by the SHA-256 of its
	// signature, see jwtCacheKey) to its claims, so a warm session check
	// costs one hash block and map reads, like a PAT check. Claims are facts about a signed token and never change;
	// revocation is checked on the session record, not here.
	jwts *cache[TokenHash, *jwtEntry]
	// epoch counts session invalidations (forgetSession).
	epoch atomic.Uint64

	keysMu  sync.RWMutex
	keys    map[string][]byte // kid -> HMAC key, as read from the store
	current atomic.Pointer[signingKey]

	totpMu    sync.Mutex
	totpSteps map[string]int64 // user id -> last TOTP step accepted
}

func (st *sessionState) init(cacheSize int) {
	st.jwts = newCache[TokenHash, *jwtEntry](cacheSize, func(h TokenHash) uint32 { return uint32(h[0]) })
	st.keys = map[string][]byte{}
	st.totpSteps = map[string]int64{}
}

// useTOTPStep records that userID used the code of step; it fails if that
// step or a later one was used already.
func (st *sessionState) useTOTPStep(userID string, step int64) bool {
	st.totpMu.Lock()
	defer st.totpMu.Unlock()
	if last, ok := st.totpSteps[userID]; ok && step <= last {
		return false
	}
	st.totpSteps[userID] = step
	return true
}
