package gate

import (
	"errors"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/decision"
	"github.com/gatehouse/gatehouse/problem"
)

// maxAuthorizationLen bounds the Authorization header; anything longer is
// refused before it is parsed.
const maxAuthorizationLen = 4096

// BearerToken extracts the Bearer credential of r. It returns "" and nil
// when the request carries no Authorization header, and a 400
// invalid_request denial for a request whose header is malformed: two
// headers, an oversized or non-ASCII value, another scheme, an empty token.
func BearerToken(r *http.Request) (string, *problem.Problem) {
	vals := r.Header.Values("Authorization")
	switch len(vals) {
	case 0:
		return "", nil
	case 1:
	default:
		return "", problem.BadAuthorization("malformed_authorization", "send exactly one Authorization header")
	}
	v := vals[0]
	if len(v) > maxAuthorizationLen {
		return "", problem.BadAuthorization("malformed_authorization", "the Authorization header is too large")
	}
	scheme, tok, _ := strings.Cut(v, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", problem.BadAuthorization("malformed_authorization", "unsupported authorization scheme; send Authorization: Bearer <token>")
	}
	tok = strings.TrimLeft(tok, " ")
	if tok == "" {
		return "", problem.BadAuthorization("malformed_authorization", "the Bearer token is empty")
	}
	if !isToken68(tok) {
		return "", problem.BadAuthorization("malformed_authorization", "the Bearer token contains characters a token cannot have")
	}
	return tok, nil
}

// token68Chars marks the bytes of an RFC 6750 b64token: ALPHA DIGIT
// "-" "." "_" "~" "+" "/". A table, because session JWTs are ~300 bytes
// and this check runs on every Bearer request.
var token68Chars = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'
	}
	return t
}()

// isToken68 reports whether s is an RFC 6750 b64token: token68 characters
// followed by optional "=" padding.
func isToken68(s string) bool {
	i := 0
	for i < len(s) && token68Chars[s[i]] {
		i++
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}

// Authenticate resolves the credential a request presents. A request that
// presents none yields (nil, nil); a presented credential that does not
// verify yields a denial and never an anonymous identity.
func (g *Gate) Authenticate(r *http.Request) (*Identity, *problem.Problem) {
	tok, d := BearerToken(r)
	if d != nil {
		return nil, d
	}
	if tok == "" {
		return g.sessionFromCookie(r)
	}
	if strings.HasPrefix(tok, g.policy.TokenPrefix) {
		return g.verifyPAT(tok, g.facts.ClientIP(r))
	}
	if strings.Count(tok, ".") == 2 {
		return g.verifySessionJWT(tok, r, false)
	}
	return nil, problem.InvalidToken("malformed_token", "malformed token", "")
}

// verifyPAT checks a PAT's format, then the store, and turns the outcome
// into an identity or an invalid_token denial.
func (g *Gate) verifyPAT(tok, ip string) (*Identity, *problem.Problem) {
	prefix := g.policy.TokenPrefix
	if err := authstore.CheckToken(prefix, tok); err != nil {
		return nil, problem.InvalidToken("malformed_token", "malformed token", "")
	}
	p, u, err := g.store.VerifyPAT(tok, ip)
	if err == nil {
		return g.patIdentity(p, u), nil
	}
	d := problem.From(err, problem.PAT)
	switch {
	case d.Status >= http.StatusInternalServerError:
		g.logger.Error("verifying token", zap.String("hint", authstore.TokenHint(prefix, tok)), zap.Error(err))
	case errors.Is(err, authstore.ErrUnknownToken):
		d.Subject = authstore.TokenHint(prefix, tok)
	default:
		d.Subject = p.ID
		if errors.Is(err, authstore.ErrExpired) {
			// The expiry tells the client when its token lapsed, so it
			// can say "expired on …" rather than guess.
			d.Headers = http.Header{api.HeaderTokenExpiration: {api.FormatExpiration(p.ExpiresAt)}}
		}
	}
	return nil, d
}

// patIdentity builds the identity of a verified PAT. A PAT never grants
// more than its owner has now, so its scopes are cut to the owner's
// current scopes and to the catalog.
func (g *Gate) patIdentity(p *authstore.PAT, u *authstore.User) *Identity {
	return &Identity{
		Credential: decision.CredentialPAT,
		User:       u,
		PAT:        p,
		Scopes:     decision.EffectiveScopes(p.Scopes, u, g.policy.Scopes),
		Tier:       u.Tier,
	}
}
