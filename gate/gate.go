package gate

import (
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/decision"
	"github.com/gatehouse/gatehouse/problem"
)

// Identity is who a request acts as; see package decision.
type Identity = decision.Identity

// Facts are what the host knows about a request that the request alone
// does not say reliably. Caddy's adapter answers from the variables Caddy
// set, which honour the server's trusted_proxies.
type Facts interface {
	// ClientIP is the client's address, never raw X-Forwarded-For.
	ClientIP(r *http.Request) string
	// IsHTTPS reports whether the client reached the site over TLS (which
	// a trusted proxy in front may have terminated).
	IsHTTPS(r *http.Request) bool
}

// Store is what gate needs of the credential store; *authstore.Store
// implements it.
type Store interface {
	VerifyPAT(tok, ip string) (*authstore.PAT, *authstore.User, error)
	VerifySessionJWT(tok, ip string) (*authstore.SessionToken, *authstore.Session, *authstore.User, error)
	IssueSessionJWT(sess *authstore.Session, iat, exp time.Time) (string, error)
}

// Config is what a Gate is built from. Everything in it is read-only
// once the Gate is built.
type Config struct {
	Policy  *config.Policy
	Store   Store
	Facts   Facts
	Budgets Budgets
	// Logger takes what fails on the server's side (a store error); nil
	// is a no-op logger.
	Logger *zap.Logger
}

// Gate authenticates and admits requests for one config generation. It
// is safe for concurrent use.
type Gate struct {
	policy  *config.Policy
	store   Store
	facts   Facts
	budgets Budgets
	logger  *zap.Logger
}

// New builds a Gate.
func New(c Config) *Gate {
	logger := c.Logger
	if logger == nil {
		logger = zap.NewNop()
	}
	return &Gate{policy: c.Policy, store: c.Store, facts: c.Facts, budgets: c.Budgets, logger: logger}
}

// Route is what a request is admitted against.
type Route struct {
	// Rule is the site rule the request matched, or the access rule of
	// the endpoint it addresses (config.AccessRule).
	Rule *config.CompiledRule
	// Params are the placeholders the rule captured; nil for endpoints.
	Params *config.Params
	// Endpoint is set for Gatehouse's own endpoints, whose refusals name
	// an endpoint rather than a route.
	Endpoint bool
	// Lenient lets an open endpoint serve as anonymous a request whose
	// credential failed, when the failure was a session cookie (no
	// Authorization header) or the one Authorization header is of another
	// scheme (an OAuth client's HTTP Basic): a stale cookie must not lock
	// anyone out of /login. A Bearer token that does not verify is refused
	// as everywhere.
	Lenient bool
	// Limit is the budget the request draws on: config.LimitTier (the
	// caller's tier), config.LimitNone, or a named budget.
	Limit string
}

// Admit runs what every guarded request goes through, in order:
// authentication, the route's requirement (decision.Decide), cross-origin
// protection for cookie-authenticated writes, the rate limit, and the
// renewal of a session cookie at half-life. It returns the identity the
// request acts as, or a denial with the caller as far as known (for
// logs), which the caller answers through Refuse. A PAT's expiry is
// announced on the response either way.
func (g *Gate) Admit(w http.ResponseWriter, r *http.Request, rt Route) (*Identity, *problem.Problem) {
	id, d := g.Authorize(r, rt)
	announceExpiry(w, id)
	if d != nil {
		return id, d
	}
	if d := g.checkCrossOrigin(r); d != nil {
		return id, d
	}
	if d := g.limit(w, r, id, rt.Limit); d != nil {
		return id, d
	}
	g.renewSession(w, r, id)
	return id, nil
}

// Authorize authenticates r and applies rt's requirement, without
// touching the response: a malformed request (400) or an invalid
// credential (401, whatever the rule, so a bad token is never treated as
// no token) is refused before the decision.
func (g *Gate) Authorize(r *http.Request, rt Route) (*Identity, *problem.Problem) {
	id, d := g.Authenticate(r)
	if d != nil {
		if !rt.Lenient || !mayIgnoreCredential(r) {
			return nil, d
		}
		id = nil
	}
	dec := decision.Decide(id, rt.Rule, rt.Params)
	return dec.Identity, g.refusalOf(&dec, rt.Rule, rt.Endpoint)
}

// Refuse is the first step of answering a denial, whoever refused: a
// failed authentication (401) draws on the client IP's anonymous budget,
// so guessing tokens or passwords is held to the anonymous rate. It
// returns the denial to answer: d, with the RateLimit fields set on w, or
// a 429 once that budget is spent. The caller then logs, counts and
// writes it.
func (g *Gate) Refuse(w http.ResponseWriter, r *http.Request, d *problem.Problem) *problem.Problem {
	return g.chargeFailure(w, r, d)
}

// announceExpiry tells a PAT's holder when it expires, on every response
// to a PAT-authenticated request, allowed or not, as GitHub does.
func announceExpiry(w http.ResponseWriter, id *Identity) {
	if id != nil && id.PAT != nil && !id.PAT.ExpiresAt.IsZero() {
		w.Header().Set(api.HeaderTokenExpiration, api.FormatExpiration(id.PAT.ExpiresAt))
	}
}

// mayIgnoreCredential reports whether an open endpoint may serve a
// request whose credential failed as anonymous: when the failure was a
// session cookie (no Authorization header), or the one Authorization
// header is of another scheme (an OAuth client's HTTP Basic).
func mayIgnoreCredential(r *http.Request) bool {
	vals := r.Header.Values("Authorization")
	if len(vals) != 1 {
		return len(vals) == 0
	}
	scheme, _, _ := strings.Cut(vals[0], " ")
	return !strings.EqualFold(scheme, "Bearer")
}

// Interface guards
var _ Store = (*authstore.Store)(nil)
