package assertion

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/authstore"
)

// JWK is one public key as RFC 7517 writes it: OKP/Ed25519 (RFC 8037)
// or EC/P-256.
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y,omitempty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

// JWKSet is the document served at api.PathJWKS.
type JWKSet struct {
	Keys []JWK `json:"keys"`
}

// PublicJWKS is the published keys of keys at now: the current ones and
// those retired within their overlap.
func PublicJWKS(keys []authstore.AssertionKey, now time.Time) (JWKSet, error) {
	set := JWKSet{Keys: []JWK{}}
	for i := range keys {
		k := &keys[i]
		if !k.Published(now) {
			continue
		}
		j, err := publicJWK(k)
		if err != nil {
			return set, err
		}
		set.Keys = append(set.Keys, j)
	}
	return set, nil
}

func publicJWK(k *authstore.AssertionKey) (JWK, error) {
	b64 := base64.RawURLEncoding.EncodeToString
	j := JWK{Kid: k.ID, Alg: k.Alg, Use: "sig"}
	switch pub := k.Public().(type) {
	case ed25519.PublicKey:
		j.Kty, j.Crv, j.X = "OKP", "Ed25519", b64(pub)
	case *ecdsa.PublicKey:
		ecdh, err := pub.ECDH()
		if err != nil {
			return j, fmt.Errorf("assertion key %s: %w", k.ID, err)
		}
		raw := ecdh.Bytes() // 0x04 || X || Y, 32 bytes each for P-256
		j.Kty, j.Crv, j.X, j.Y = "EC", "P-256", b64(raw[1:33]), b64(raw[33:])
	default:
		return j, fmt.Errorf("assertion key %s: unsupported public key %T", k.ID, pub)
	}
	return j, nil
}

// ServeJWKS answers a JWKS request with the published keys. Verifiers
// may cache it for a minute; one that meets an unknown kid refetches.
func ServeJWKS(w http.ResponseWriter, keys []authstore.AssertionKey, now time.Time) error {
	set, err := PublicJWKS(keys, now)
	if err != nil {
		return err
	}
	body, err := json.Marshal(set)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/jwk-set+json")
	h.Set("Cache-Control", "public, max-age=60")
	_, err = w.Write(body)
	return err
}
