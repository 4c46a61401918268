package gate

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/problem"
	"github.com/gatehouse/gatehouse/ratelimit"
)

// Rate limiting, as gate applies it:
//
//   - Every request draws on one budget: the rule's named budget if it
//     names one, nothing if it says no_limit, otherwise the caller's tier
//     (Gatehouse's own endpoints too, except those that apply a limit of
//     their own, such as agent registration).
//   - A budget is kept per user id for authenticated callers, so all of a
//     user's PATs and sessions share it, and per client IP for anonymous
//     ones (ClientKey): the IP the host computed, which honours
//     trusted_proxies. User ids (usr_…) and IPs never collide.
//   - Without tiers nothing is limited by tier. With tiers but none named
//     "anonymous", anonymous requests are not limited. A user whose tier
//     is no longer declared is held to the default tier.
//   - Failed authentications (401) draw on the client IP's anonymous
//     budget (Refuse), so guessing tokens or passwords is held to the
//     anonymous rate; a valid credential never pays for someone else's
//     failures.
//
// The limiters themselves, and keeping their state across config
// generations, are the host's: it hands gate the Budgets.

// Response fields of draft-ietf-httpapi-ratelimit-headers-11, in Go's
// canonical form so setting them costs no allocation (field names are
// case-insensitive on the wire).
const (
	headerRateLimitPolicy = "Ratelimit-Policy"
	headerRateLimit       = "Ratelimit"
	headerRetryAfter      = "Retry-After"
)

// Counter counts a budget's refusals; a prometheus.Counter is one.
type Counter interface{ Inc() }

// Budget is one rate-limit policy as a config generation applies it.
type Budget struct {
	limiter *ratelimit.Limiter
	policy  ratelimit.Policy
	// policyHeader is the RateLimit-Policy value, computed once; each
	// response gets its own slice, since later handlers may edit headers
	// in place.
	policyHeader string
	refused      Counter
}

type nopCounter struct{}

func (nopCounter) Inc() {}

// NewBudget is the budget of policy, kept by limiter; refused (nil: none)
// counts its refusals.
func NewBudget(limiter *ratelimit.Limiter, policy ratelimit.Policy, refused Counter) *Budget {
	if refused == nil {
		refused = nopCounter{}
	}
	return &Budget{limiter: limiter, policy: policy, policyHeader: policy.PolicyHeader(), refused: refused}
}

// Limiter is the limiter that keeps the budget's state.
func (b *Budget) Limiter() *ratelimit.Limiter { return b.limiter }

// Budgets are a config generation's budgets.
type Budgets struct {
	// Tiers are the tiers by name.
	Tiers map[string]*Budget
	// Named are the budgets rules name, by name.
	Named map[string]*Budget
	// Anonymous is the tier of requests without a credential; nil when
	// no tier is named "anonymous", and then they are not limited.
	Anonymous *Budget
	// Fallback is the default tier, for users whose tier is not declared.
	Fallback *Budget
}

// Pick returns the budget a request by id on a rule with the given limit
// draws on, or nil if it is not limited.
func (l *Budgets) Pick(id *Identity, limit string) *Budget {
	switch limit {
	case config.LimitNone:
		return nil
	case config.LimitTier:
	default:
		// Rules were compiled against this policy, so the budget exists.
		return l.Named[limit]
	}
	if id == nil || id.User == nil {
		return l.Anonymous
	}
	if b, ok := l.Tiers[id.Tier]; ok {
		return b
	}
	return l.Fallback
}

// limit charges a request that passed its rule to its budget. An allowed
// request gets the RateLimit fields on its response, set before the
// upstream answers; a refused one gets a 429 denial carrying them and
// Retry-After.
func (g *Gate) limit(w http.ResponseWriter, r *http.Request, id *Identity, limit string) *problem.Problem {
	b := g.budgets.Pick(id, limit)
	if b == nil {
		return nil
	}
	key := ""
	if id != nil && id.User != nil {
		key = id.User.ID
	} else {
		key = ratelimit.ClientKey(g.facts.ClientIP(r))
	}
	return b.Charge(w, key)
}

// chargeFailure makes a failed authentication (401) draw on the client
// IP's anonymous budget. It returns the denial to answer: d, with the
// RateLimit fields set, or a 429 once the budget is spent.
func (g *Gate) chargeFailure(w http.ResponseWriter, r *http.Request, d *problem.Problem) *problem.Problem {
	if d.Status != http.StatusUnauthorized || g.budgets.Anonymous == nil {
		return d
	}
	if refused := g.budgets.Anonymous.Charge(w, ratelimit.ClientKey(g.facts.ClientIP(r))); refused != nil {
		// A stale cookie's 401 clears it; the 429 must too, or the
		// browser keeps sending the dead cookie and stays throttled.
		if c := d.Headers["Set-Cookie"]; len(c) > 0 {
			h := refused.Headers.Clone()
			if h == nil {
				h = http.Header{}
			}
			h["Set-Cookie"] = c
			refused.Headers = h
		}
		return refused
	}
	return d
}

// Charge decides one request for key: nil with the RateLimit fields set
// on w, or the 429 to answer.
func (b *Budget) Charge(w http.ResponseWriter, key string) *problem.Problem {
	d := b.limiter.Allow(key)
	if d.Allowed {
		h := w.Header()
		h[headerRateLimitPolicy] = []string{b.policyHeader}
		h[headerRateLimit] = []string{d.Header(b.policy)}
		return nil
	}
	b.refused.Inc()
	return b.refusal(d)
}

// refusal is the 429 answer to a request over budget. Its message names
// the policy, never the key.
func (b *Budget) refusal(d ratelimit.Decision) *problem.Problem {
	secs := d.RetryAfterSeconds()
	p := b.policy
	return &problem.Problem{
		Status: http.StatusTooManyRequests,
		Code:   "rate_limited",
		Message: fmt.Sprintf("rate limit exceeded: %s allows %d requests per %ds; retry in %ds",
			p.Name, p.Count, int64(p.Window/time.Second), secs),
		Reason: "rate_limited",
		Headers: http.Header{
			headerRetryAfter:      {strconv.Itoa(secs)},
			headerRateLimitPolicy: {b.policyHeader},
			headerRateLimit:       {d.Header(p)},
		},
	}
}
