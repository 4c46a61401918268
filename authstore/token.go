package authstore

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/crc32"
)

// Token layout, after GitHub's: <prefix><30 base62 random><6 base62 CRC32>.
// 30 base62 characters carry 178 bits from crypto/rand; the checksum covers
// prefix and random part so a mistyped or truncated token is refused before
// any store lookup and a secret scanner can confirm a leak offline.
const (
	tokenRandomLen   = 30
	tokenChecksumLen = 6
	tokenBodyLen     = tokenRandomLen + tokenChecksumLen

	// MaxPrefixLen bounds a configured token prefix.
	MaxPrefixLen = 24
	// MaxTokenLen is the longest well-formed token of any prefix; anything
	// longer is rejected without further parsing.
	MaxTokenLen = MaxPrefixLen + tokenBodyLen

	// DefaultPrefix is the token prefix when a deployment names none.
	DefaultPrefix = "gth_"
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Errors of the token format. Both mean the token can never verify; callers
// answer them like an unknown token, without touching the store.
var (
	ErrMalformedToken = errors.New("malformed token")
	ErrTokenChecksum  = errors.New("token checksum mismatch")
)

// TokenHash is the SHA-256 of a whole token, the only form in which a token
// is stored.
type TokenHash [sha256.Size]byte

// ValidatePrefix reports whether p can prefix tokens: 1 to MaxPrefixLen
// lowercase letters, digits or underscores, ending in an underscore so the
// random part stays visually separate (`qat_`, `divbase_pat_`).
func ValidatePrefix(p string) error {
	if len(p) < 2 || len(p) > MaxPrefixLen {
		return fmt.Errorf("token prefix %q: must be 2 to %d characters", p, MaxPrefixLen)
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return fmt.Errorf("token prefix %q: only a-z, 0-9 and _ are allowed", p)
		}
	}
	if p[len(p)-1] != '_' {
		return fmt.Errorf("token prefix %q: must end with _", p)
	}
	return nil
}

// NewToken returns a fresh token with the given prefix.
func NewToken(prefix string) (string, error) {
	buf := make([]byte, len(prefix)+tokenBodyLen)
	copy(buf, prefix)
	if err := randomBase62(buf[len(prefix) : len(prefix)+tokenRandomLen]); err != nil {
		return "", err
	}
	putChecksum(buf[len(prefix)+tokenRandomLen:], crc32.ChecksumIEEE(buf[:len(prefix)+tokenRandomLen]))
	return string(buf), nil
}

// CheckToken validates the shape and checksum of a presented token without
// allocating, so garbage is refused before the store is consulted.
func CheckToken(prefix, tok string) error {
	if len(tok) != len(prefix)+tokenBodyLen || tok[:len(prefix)] != prefix {
		return ErrMalformedToken
	}
	for i := len(prefix); i < len(tok); i++ {
		if base62Value(tok[i]) < 0 {
			return ErrMalformedToken
		}
	}
	body := len(tok) - tokenChecksumLen
	var sum uint64
	for i := body; i < len(tok); i++ {
		sum = sum*62 + uint64(base62Value(tok[i]))
	}
	if sum != uint64(crc32IEEEString(tok[:body])) {
		return ErrTokenChecksum
	}
	return nil
}

// HashToken returns the SHA-256 of tok without allocating for tokens of
// normal length.
func HashToken(tok string) TokenHash {
	var buf [MaxTokenLen]byte
	if len(tok) <= len(buf) {
		n := copy(buf[:], tok)
		return sha256.Sum256(buf[:n])
	}
	return sha256.Sum256([]byte(tok))
}

// TokenHint is the display form of a token: its prefix and the first four
// random characters (`qat_abcd****`), enough to recognise, useless to use.
func TokenHint(prefix, tok string) string {
	end := len(prefix) + 4
	if len(tok) < end {
		end = len(tok)
	}
	return tok[:end] + "****"
}

// crc32IEEEString is crc32.ChecksumIEEE over a string, byte by byte with
// the standard table: the library's accelerated path takes a []byte that
// escapes, which would cost an allocation per request.
func crc32IEEEString(s string) uint32 {
	crc := ^uint32(0)
	for i := 0; i < len(s); i++ {
		crc = crc32.IEEETable[byte(crc)^s[i]] ^ (crc >> 8)
	}
	return ^crc
}

// putChecksum writes v as exactly len(dst) base62 digits, most significant
// first (CRC32 < 62^6, so six digits always suffice).
func putChecksum(dst []byte, v uint32) {
	n := uint64(v)
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = base62[n%62]
		n /= 62
	}
}

func base62Value(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 36
	}
	return -1
}

// randomBase62 fills dst with uniformly distributed base62 characters,
// rejecting bytes >= 248 (4*62) so there is no modulo bias.
func randomBase62(dst []byte) error {
	var pool [64]byte
	filled := 0
	for filled < len(dst) {
		if _, err := rand.Read(pool[:]); err != nil {
			return fmt.Errorf("read random bytes: %w", err)
		}
		for _, b := range pool {
			if b >= 248 {
				continue
			}
			dst[filled] = base62[b%62]
			filled++
			if filled == len(dst) {
				break
			}
		}
	}
	return nil
}

// randomID returns a public identifier: a type prefix and 16 base62
// characters (95 bits), for ids that are shown but grant nothing.
func randomID(kind string) (string, error) {
	buf := make([]byte, len(kind)+16)
	copy(buf, kind)
	if err := randomBase62(buf[len(kind):]); err != nil {
		return "", err
	}
	return string(buf), nil
}
