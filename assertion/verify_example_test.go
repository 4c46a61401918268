package assertion_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// Verifier is what an upstream runs: it fetches Gatehouse's JWKS (with
// go-jose parsing it, independently of the code that wrote it), refetches
// when an assertion names a kid it does not know (a rotation), and has
// golang-jwt check the signature, the algorithm, issuer, audience and
// expiry. It is the example the README points upstream developers to.
type Verifier struct {
	JWKSURL  string
	Issuer   string
	Audience string
	Client   *http.Client
	// Now is the clock; nil is time.Now.
	Now func() time.Time

	mu   sync.Mutex
	keys jose.JSONWebKeySet
}

// UpstreamClaims are the claims an upstream reads.
type UpstreamClaims struct {
	jwt.RegisteredClaims
	Login      string   `json:"login"`
	Scopes     []string `json:"scopes"`
	Tier       string   `json:"tier"`
	Credential string   `json:"credential"`
	TokenID    string   `json:"token_id"`
}

// Verify checks the Gatehouse-Assertion header value.
func (v *Verifier) Verify(assertion string) (*UpstreamClaims, error) {
	var claims UpstreamClaims
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{"EdDSA", "ES256"}),
		jwt.WithIssuer(v.Issuer), jwt.WithAudience(v.Audience),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(),
	}
	if v.Now != nil {
		opts = append(opts, jwt.WithTimeFunc(v.Now))
	}
	_, err := jwt.ParseWithClaims(assertion, &claims, v.key, opts...)
	if err != nil {
		return nil, err
	}
	return &claims, nil
}

// key finds the token's kid in the JWKS, refetching once on a miss.
func (v *Verifier) key(t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, errors.New("assertion without kid")
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for attempt := 0; attempt < 2; attempt++ {
		if ks := v.keys.Key(kid); len(ks) == 1 {
			if alg, _ := t.Header["alg"].(string); ks[0].Algorithm != alg {
				return nil, fmt.Errorf("kid %s is for %s, not %s", kid, ks[0].Algorithm, alg)
			}
			return ks[0].Key, nil
		}
		if attempt == 0 {
			if err := v.fetch(); err != nil {
				return nil, err
			}
		}
	}
	return nil, fmt.Errorf("unknown kid %s", kid)
}

func (v *Verifier) fetch() error {
	resp, err := v.Client.Get(v.JWKSURL)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("JWKS: %s", resp.Status)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		return fmt.Errorf("JWKS: %w", err)
	}
	v.keys = set
	return nil
}
