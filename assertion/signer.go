package assertion

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/decision"
	"github.com/gatehouse/gatehouse/internal/clock"
)

// Header is the request header that carries the assertion upstream. It
// is in Gatehouse's namespace, so a client's copy is always deleted.
const Header = "Gatehouse-Assertion"

// MaxTTL is the longest lifetime an assertion may have: it is a bearer
// credential for the upstream, so it must go stale fast.
const MaxTTL = time.Minute

// Claims are an assertion's claims. Scopes is a JSON array; Credential
// is pat, session or anonymous; TokenID is the PAT's public id.
type Claims struct {
	jwt.RegisteredClaims
	Login      string   `json:"login,omitempty"`
	Scopes     []string `json:"scopes"`
	Tier       string   `json:"tier"`
	Credential string   `json:"credential"`
	TokenID    string   `json:"token_id,omitempty"`
}

// Keys gives the key that signs; *authstore.Store implements it.
type Keys interface {
	CurrentAssertionKey(alg string) (*authstore.AssertionKey, error)
}

// Config is what a Signer is built from.
type Config struct {
	// Keys returns the key source; called per assertion, since the host
	// opens the store after building the Signer.
	Keys func() Keys
	// Issuer is the iss claim.
	Issuer string
	// Alg is authstore.AlgEdDSA (default) or authstore.AlgES256.
	Alg string
	// TTL is the lifetime, at most MaxTTL (the default).
	TTL time.Duration
	// Now is the clock. Default: internal/clock.
	Now func() time.Time
	// CacheSize bounds the cache of signed assertions. Default: 100000.
	CacheSize int
}

// Signer signs assertions and caches each per (credential, audience):
// a signature per request would cost more than the rest of the proxy
// path. An assertion is reused until half its life has passed, so the
// upstream always gets at least TTL/2 of validity; and never once the
// caller's login, tier or scopes change, or the signing key rotates.
// It is safe for concurrent use.
type Signer struct {
	keys   func() Keys
	issuer string
	alg    string
	method jwt.SigningMethod
	ttl    time.Duration
	now    func() time.Time
	max    int

	mu    sync.RWMutex
	cache map[cacheKey]*cached
}

// maxCachedAudience is the longest audience whose assertion is cached:
// a DNS name, or an operator's URL, fits with room to spare.
const maxCachedAudience = 512

// cacheKey names a credential (its kind and id; anonymous requests share
// one) and an audience.
type cacheKey struct{ kind, id, audience string }

// cached is a signed assertion with what it was signed over, so a hit
// can confirm it still says the same thing.
type cached struct {
	jwt       string
	kid       string
	login     string
	tier      string
	scopes    []string
	refreshAt time.Time
	exp       time.Time
}

// New builds a Signer.
func New(c Config) (*Signer, error) {
	s := &Signer{keys: c.Keys, issuer: c.Issuer, alg: c.Alg, ttl: c.TTL, now: c.Now, max: c.CacheSize, cache: map[cacheKey]*cached{}}
	if s.alg == "" {
		s.alg = authstore.AlgEdDSA
	}
	switch s.alg {
	case authstore.AlgEdDSA:
		s.method = jwt.SigningMethodEdDSA
	case authstore.AlgES256:
		s.method = jwt.SigningMethodES256
	default:
		return nil, authstore.ValidateAssertionAlg(s.alg)
	}
	if s.ttl == 0 {
		s.ttl = MaxTTL
	}
	if s.ttl < time.Second || s.ttl > MaxTTL {
		return nil, fmt.Errorf("assertion ttl %s: must be 1s to %s", s.ttl, MaxTTL)
	}
	if s.now == nil {
		s.now = clock.Now
	}
	if s.max <= 0 {
		s.max = 100_000
	}
	if s.keys == nil {
		return nil, fmt.Errorf("assertion signer: no key source")
	}
	return s, nil
}

// Alg is the algorithm the Signer uses.
func (s *Signer) Alg() string { return s.alg }

// Assertion returns the signed assertion of id for audience.
func (s *Signer) Assertion(id *decision.Identity, audience string) (string, error) {
	key, err := s.keys().CurrentAssertionKey(s.alg)
	if err != nil {
		return "", err
	}
	now := s.now()
	ck := credentialKey(id, audience)
	s.mu.RLock()
	c := s.cache[ck]
	s.mu.RUnlock()
	if c != nil && now.Before(c.refreshAt) && c.kid == key.ID && c.matches(id) {
		return c.jwt, nil
	}
	c, err = s.sign(id, audience, key, now)
	if err != nil {
		return "", err
	}
	if len(audience) > maxCachedAudience {
		// The default audience is the Host the client sent: an entry
		// keyed by (and signed over) a long one would let the count bound
		// hold gigabytes. Such a request pays for its signature.
		return c.jwt, nil
	}
	s.mu.Lock()
	if len(s.cache) >= s.max {
		s.evict(now)
	}
	s.cache[ck] = c
	s.mu.Unlock()
	return c.jwt, nil
}

func credentialKey(id *decision.Identity, audience string) cacheKey {
	switch {
	case id.PAT != nil:
		return cacheKey{"pat", id.PAT.ID, audience}
	case id.Session != nil:
		return cacheKey{"session", id.Session.ID, audience}
	}
	return cacheKey{"anonymous", "", audience}
}

func (c *cached) matches(id *decision.Identity) bool {
	login := ""
	if id.User != nil {
		login = id.User.Login
	}
	return c.login == login && c.tier == id.Tier && slices.Equal(c.scopes, id.Scopes)
}

func (s *Signer) sign(id *decision.Identity, audience string, key *authstore.AssertionKey, now time.Time) (*cached, error) {
	jti, err := randomJTI()
	if err != nil {
		return nil, err
	}
	exp := now.Add(s.ttl)
	claims := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: s.issuer, Audience: jwt.ClaimStrings{audience}, ID: jti,
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp),
		},
		Scopes: id.Scopes, Tier: id.Tier, Credential: id.Credential,
	}
	if claims.Scopes == nil {
		claims.Scopes = []string{}
	}
	if id.User != nil {
		claims.Subject, claims.Login = id.User.ID, id.User.Login
	}
	if id.PAT != nil {
		claims.TokenID = id.PAT.ID
	}
	tok := jwt.NewWithClaims(s.method, claims)
	tok.Header["kid"] = key.ID
	signed, err := tok.SignedString(key.Signer())
	if err != nil {
		return nil, fmt.Errorf("signing an assertion with %s: %w", key.ID, err)
	}
	return &cached{jwt: signed, kid: key.ID, login: claims.Login, tier: id.Tier, scopes: slices.Clone(id.Scopes),
		refreshAt: now.Add(s.ttl / 2), exp: exp}, nil
}

// evict drops stale entries, and everything if none was stale: a full
// cache only costs signatures, never a wrong answer. s.mu is held.
func (s *Signer) evict(now time.Time) {
	for k, c := range s.cache {
		if !now.Before(c.refreshAt) {
			delete(s.cache, k)
		}
	}
	if len(s.cache) >= s.max {
		clear(s.cache)
	}
}

func randomJTI() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("assertion jti: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
