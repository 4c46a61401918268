package authstore

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Session JWT parameters. A session JWT is an HS256 token signed with one
// of this edge's stored keys; it names a session record, which is what
// logout and revocation change.
const (
	// JWTIssuer and JWTAudience are required in every session JWT.
	JWTIssuer   = "gatehouse"
	JWTAudience = "gatehouse-session"
	// JWTLeeway tolerates clock skew on exp, nbf and iat.
	JWTLeeway = 30 * time.Second
	// MaxJWTLen bounds a presented JWT; ours are about 300 bytes.
	MaxJWTLen = 2048
)

// jwtMethods is the one algorithm a session JWT may use.
var jwtMethods = []string{jwt.SigningMethodHS256.Alg()}

// sessionClaims is the JWT payload: iss, aud, sub (user id), sid, iat, exp.
type sessionClaims struct {
	jwt.RegisteredClaims
	SessionID string `json:"sid"`
}

// SessionToken is what a verified session JWT says.
type SessionToken struct {
	SessionID string
	UserID    string
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// jwtEntry is a cached verified JWT; lastNoted throttles last-seen stamps
// to one a minute per token, without a lock.
type jwtEntry struct {
	signed    string // header.payload of the token that verified
	tok       *SessionToken
	lastNoted atomic.Int64
	snap      atomic.Pointer[sessionSnap]
}

// sessionSnap is the session record a JWT named when last checked, valid
// while the session epoch is unchanged.
type sessionSnap struct {
	sess  *Session
	epoch uint64
}

// jwtSession returns the session a verified JWT names. While no session
// anywhere has changed since the entry's snapshot (the epoch is the
// same), the snapshot is current and the session cache is not consulted,
// so a warm session check does the same lookups as a PAT check: its
// token, then its user. The epoch is read before the lookup, so a
// snapshot can only be older than its epoch says, never newer.
func (s *Store) jwtSession(e *jwtEntry) (*Session, error) {
	epoch := s.sess.epoch.Load()
	if sn := e.snap.Load(); sn != nil && sn.epoch == epoch {
		return sn.sess, nil
	}
	sess, err := s.Session(e.tok.SessionID)
	if err != nil {
		return nil, err
	}
	e.snap.Store(&sessionSnap{sess: sess, epoch: epoch})
	return sess, nil
}

// IssueSessionJWT signs a JWT for sess, issued at iat and valid until exp
// (capped at the session's absolute expiry). Equal inputs give equal
// tokens, so two refreshes answered from one rotation return the same
// access token.
func (s *Store) IssueSessionJWT(sess *Session, iat, exp time.Time) (string, error) {
	k, err := s.currentSigningKey()
	if err != nil {
		return "", err
	}
	if exp.After(sess.ExpiresAt) {
		exp = sess.ExpiresAt
	}
	claims := sessionClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    JWTIssuer,
			Subject:   sess.UserID,
			Audience:  jwt.ClaimStrings{JWTAudience},
			IssuedAt:  jwt.NewNumericDate(iat),
			ExpiresAt: jwt.NewNumericDate(exp),
		},
		SessionID: sess.ID,
	}
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	t.Header["kid"] = k.kid
	delete(t.Header, "typ") // optional (RFC 7519 §5.1); every byte is hashed and scanned per request
	signed, err := t.SignedString(k.key)
	if err != nil {
		return "", fmt.Errorf("sign session token: %w", err)
	}
	return signed, nil
}

// VerifySessionJWT checks a presented session JWT and the session it
// names, and returns both with the session's user. A JWT that verified
// once is remembered by its SHA-256, so later checks cost a hash and map
// reads; the session record is consulted every time, so logout and
// revocation take effect at once. Outcomes: ErrMalformedToken (bad shape,
// signature, key or claims), ErrExpired, ErrRevoked, ErrUnknownToken (no
// such session), ErrUserDisabled. A successful use from ip is recorded as
// the session's last sighting, at most once a minute, off the request
// path.
func (s *Store) VerifySessionJWT(tok, ip string) (*SessionToken, *Session, *User, error) {
	if len(tok) > MaxJWTLen || !isJWTText(tok) {
		return nil, nil, nil, ErrMalformedToken
	}
	e, err := s.jwtEntry(tok)
	if err != nil {
		return nil, nil, nil, err
	}
	now := s.now()
	if err := s.checkFreshAt(now); err != nil {
		return nil, nil, nil, err
	}
	st := e.tok
	if now.After(st.ExpiresAt.Add(JWTLeeway)) {
		return st, nil, nil, ErrExpired
	}
	sess, err := s.jwtSession(e)
	if errors.Is(err, ErrNotFound) {
		return st, nil, nil, ErrUnknownToken
	}
	if err != nil {
		return st, nil, nil, err
	}
	u, err := s.checkSession(sess, now)
	if err != nil {
		return st, sess, u, err
	}
	if sess.UserID != st.UserID {
		return st, nil, nil, ErrMalformedToken
	}
	if last := e.lastNoted.Load(); now.UnixNano()-last >= int64(touchEvery) && e.lastNoted.CompareAndSwap(last, now.UnixNano()) {
		s.touches.note(sess.ID, now, ip)
	}
	return st, sess, u, nil
}

// jwtChars marks the bytes a compact JWT may hold: the base64url alphabet
// (RFC 4648 §5, no padding) and the dots between segments.
var jwtChars = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
	}
	return t
}()

// isJWTText reports whether tok holds only base64url characters and dots.
// Go's base64 decoders skip CR and LF even in strict mode, so without this
// a line break inside the signature would make another string that
// verifies; with it and strict decoding, a session has exactly one
// encoding.
func isJWTText(tok string) bool {
	for i := 0; i < len(tok); i++ {
		if !jwtChars[tok[i]] {
			return false
		}
	}
	return true
}

// jwtCacheKey splits tok into its signed part (header.payload) and the
// SHA-256 of its signature, the key of the verified-JWT cache. Hashing the
// 43-byte signature costs one SHA-256 block, as a PAT's hash does, where
// hashing the whole 300-byte token would cost five; a cache hit also
// requires the signed part to equal the one that verified, so a hit means
// the presented token is byte for byte a token that verified. Memory never
// holds a whole token: the signature is kept only as its hash.
func jwtCacheKey(tok string) (signed string, key TokenHash, ok bool) {
	dot := strings.LastIndexByte(tok, '.')
	if dot < 0 {
		return "", key, false
	}
	var buf [128]byte
	sig := tok[dot+1:]
	if len(sig) > len(buf) {
		return "", key, false
	}
	return tok[:dot], sha256.Sum256(buf[:copy(buf[:], sig)]), true
}

func (s *Store) jwtEntry(tok string) (*jwtEntry, error) {
	signed, key, ok := jwtCacheKey(tok)
	if !ok {
		return nil, ErrMalformedToken
	}
	if e, ok := s.sess.jwts.get(key); ok && e.signed == signed {
		return e, nil
	}
	gen := s.sess.jwts.generation()
	st, err := s.parseSessionJWT(tok)
	if err != nil {
		return nil, err
	}
	e := &jwtEntry{signed: strings.Clone(signed), tok: st}
	s.sess.jwts.fill(key, e, gen)
	return e, nil
}

// parseSessionJWT verifies a JWT's signature and registered claims with the
// library's checks: HS256 only, exp required, iss and aud ours, iat not in
// the future, and the key named by kid taken only from this store.
// Segments are decoded strictly (RFC 4648 §3.5: the unused low bits of
// the last character must be zero), so a signature whose last character
// differs only in those bits, which lenient decoding reads as the same
// bytes, is refused: one session JWT, one string.
func (s *Store) parseSessionJWT(tok string) (*SessionToken, error) {
	var c sessionClaims
	_, err := jwt.ParseWithClaims(tok, &c, s.jwtKey,
		jwt.WithValidMethods(jwtMethods),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithIssuer(JWTIssuer),
		jwt.WithAudience(JWTAudience),
		jwt.WithLeeway(JWTLeeway),
		jwt.WithTimeFunc(s.now),
		jwt.WithStrictDecoding(),
	)
	switch {
	case err == nil:
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, ErrExpired
	default:
		return nil, ErrMalformedToken
	}
	if c.SessionID == "" || c.Subject == "" || c.IssuedAt == nil {
		return nil, ErrMalformedToken
	}
	return &SessionToken{SessionID: c.SessionID, UserID: c.Subject, IssuedAt: c.IssuedAt.Time, ExpiresAt: c.ExpiresAt.Time}, nil
}

// jwtKey resolves the header's kid among the keys this store holds. Tokens
// that try to bring their own key (jku, x5u, jwk, x5c) are refused
// outright, although the library would ignore those headers anyway.
func (s *Store) jwtKey(t *jwt.Token) (any, error) {
	for _, h := range []string{"jku", "x5u", "jwk", "x5c", "crit"} {
		if _, ok := t.Header[h]; ok {
			return nil, fmt.Errorf("session token header %s is not accepted", h)
		}
	}
	kid, _ := t.Header["kid"].(string)
	key, err := s.signingKeyByID(kid)
	if err != nil {
		return nil, errors.New("unknown signing key")
	}
	return key, nil
}
