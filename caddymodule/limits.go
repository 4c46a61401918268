package caddymodule

import (
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/problem"
	"github.com/gatehouse/gatehouse/ratelimit"
)

// Rate limiting, as this file applies it:
//
//   - Every request draws on one budget: the rule's named budget if it
//     names one, nothing if it says no_limit, otherwise the caller's tier
//     (Gatehouse's own endpoints too, except registration and agent key
//     revocation, which have their own rules: see register.go).
//   - A budget is kept per user id for authenticated callers, so all of a
//     user's PATs and sessions share it, and per client IP for anonymous
//     ones: the IP Caddy computed, which honours trusted_proxies. IPv6
//     clients are keyed by their /64, the block one subscriber gets, so
//     one host cannot mint itself fresh budgets. User ids (usr_…) and IPs
//     never collide.
//   - Without tiers nothing is limited by tier. With tiers but none named
//     "anonymous", anonymous requests are not limited (a warning is
//     logged). A user whose tier is no longer declared is held to the
//     default tier.
//   - Failed authentications (401) draw on the client IP's anonymous
//     budget, so guessing tokens or passwords is held to the anonymous
//     rate; a valid credential never pays for someone else's failures.
//   - Limiter state lives in a pool shared by config generations, keyed
//     by the policy's signature (kind, name, rate, burst): a reload keeps
//     every budget whose policy did not change and starts a changed one
//     afresh.

// limiters shares rate limiters across config generations. Caddy
// provisions a new config before it cleans up the old one, so a policy
// present in both is found here and keeps its state; the last generation
// to release one stops its sweeper.
var limiters = caddy.NewUsagePool()

// Kinds of limiter. They key the pool apart, so a tier and a budget that
// share a name and a rate never share state.
const (
	limitKindTier         = "tier"
	limitKindBudget       = "budget"
	limitKindRegistration = "registration"
)

// registrationPolicy names the per-IP registration limit in the RateLimit
// fields.
const registrationPolicy = "registration"

// Response fields of draft-ietf-httpapi-ratelimit-headers-11, in Go's
// canonical form so setting them costs no allocation (field names are
// case-insensitive on the wire).
const (
	headerRateLimitPolicy = "Ratelimit-Policy"
	headerRateLimit       = "Ratelimit"
	headerRetryAfter      = "Retry-After"
)

// pooledLimiter is a limiter with the goroutine that sweeps its idle keys.
type pooledLimiter struct {
	limiter *ratelimit.Limiter
	stop    chan struct{}
	done    chan struct{}
}

// Destruct stops the sweeper when no config generation uses the limiter
// any more, and waits for it to return.
func (p *pooledLimiter) Destruct() error {
	close(p.stop)
	<-p.done
	return nil
}

func (p *pooledLimiter) sweep(every time.Duration) {
	defer close(p.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.limiter.Sweep()
		}
	}
}

// sweepInterval is how often a limiter drops its idle keys: once per
// window, as the ratelimit package suggests, but at most once every 10s
// (a short window would make sweeping a busy loop) and at least once a
// minute (so a long window does not let idle keys pile up until eviction
// has to make room).
func sweepInterval(window time.Duration) time.Duration {
	return min(max(window, 10*time.Second), time.Minute)
}

// budget is one policy as a config generation applies it.
type budget struct {
	limiter *ratelimit.Limiter
	policy  ratelimit.Policy
	// policyHeader is the RateLimit-Policy value, computed once; each
	// response gets its own slice, since later handlers may edit headers
	// in place.
	policyHeader string
	// refused counts this policy's refusals (gatehouse_rate_limited_total).
	refused prometheus.Counter
}

// limits are a config generation's budgets.
type limits struct {
	tiers   map[string]*budget
	budgets map[string]*budget
	// anonymous is the tier of requests without a credential; nil when
	// no tier is named "anonymous", and then they are not limited.
	anonymous *budget
	// fallback is the default tier, for users whose tier is not declared.
	fallback *budget
	// registration is the per-IP limit of agent registration; nil when
	// registration is not configured.
	registration *budget
	// poolKeys are the limiters this generation took from the pool, for
	// releaseLimits.
	poolKeys []string
}

// provisionLimits takes from the pool a limiter for every tier, budget and
// the registration limit. It is all or nothing: on error it releases what
// it took and leaves a.limits empty, so Cleanup (which Caddy calls after a
// failed Provision too) releases only what was taken.
func (a *App) provisionLimits() error {
	p := a.policy
	l := limits{tiers: map[string]*budget{}, budgets: map[string]*budget{}}
	take := func(kind string, t config.Tier) (*budget, error) {
		b, key, err := acquireBudget(kind, t)
		if err != nil {
			return nil, err
		}
		l.poolKeys = append(l.poolKeys, key)
		return b, nil
	}
	var err error
	for name, t := range p.Tiers {
		if l.tiers[name], err = take(limitKindTier, t); err != nil {
			break
		}
	}
	for name, t := range p.Budgets {
		if err != nil {
			break
		}
		l.budgets[name], err = take(limitKindBudget, t)
	}
	if r := p.Registration; r != nil && err == nil {
		l.registration, err = take(limitKindRegistration, config.Tier{Name: registrationPolicy, Rate: r.Limit})
	}
	if err != nil {
		releasePooled(l.poolKeys)
		return fmt.Errorf("gatehouse rate limits: %w", err)
	}
	l.anonymous = l.tiers[config.AnonymousTier]
	l.fallback = l.tiers[p.DefaultTier]
	if len(l.tiers) > 0 && l.anonymous == nil {
		a.logger.Warn("no tier is named anonymous: requests without a credential and failed authentications are not rate limited")
	}
	a.limits = l
	return nil
}

// releaseLimits gives back the limiters this generation took, once. The
// budgets stay in place: a request the old generation is still finishing
// may use them (a released limiter keeps working, only its sweeper
// stops), and clearing them would race with it.
func (a *App) releaseLimits() {
	releasePooled(a.limits.poolKeys)
	a.limits.poolKeys = nil
}

func releasePooled(keys []string) {
	for _, k := range keys {
		_, _ = limiters.Delete(k)
	}
}

// acquireBudget takes the pooled limiter of t's policy, creating it (and
// its sweeper) if no config generation holds it, and returns it with its
// pool key.
func acquireBudget(kind string, t config.Tier) (*budget, string, error) {
	count, window, err := ratelimit.ParseRate(t.Rate)
	if err != nil {
		return nil, "", fmt.Errorf("%s %s: %w", kind, t.Name, err)
	}
	policy := ratelimit.Policy{Name: t.Name, Count: count, Window: window, Burst: t.Burst}
	if policy.Burst == 0 {
		// "600/1m" and "600/1m burst 600" are the same policy: one key.
		policy.Burst = count
	}
	if err := policy.Validate(); err != nil {
		return nil, "", fmt.Errorf("%s %s: %w", kind, t.Name, err)
	}
	// The signature: what the limiter's state means. A change to any part
	// of it starts the budget afresh.
	key := fmt.Sprintf("%s %s %d/%ds burst %d", kind, policy.Name, policy.Count, policy.Window/time.Second, policy.Burst)
	val, _, err := limiters.LoadOrNew(key, func() (caddy.Destructor, error) {
		lim, err := ratelimit.New(policy, ratelimit.Options{})
		if err != nil {
			return nil, err
		}
		p := &pooledLimiter{limiter: lim, stop: make(chan struct{}), done: make(chan struct{})}
		go p.sweep(sweepInterval(policy.Window))
		return p, nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("%s %s: %w", kind, t.Name, err)
	}
	return &budget{
		limiter:      val.(*pooledLimiter).limiter,
		policy:       policy,
		policyHeader: policy.PolicyHeader(),
		refused:      rateLimited.WithLabelValues(policy.Name),
	}, key, nil
}

// limit charges a request that passed its rule to its budget (see the
// top of this file). An allowed request gets the RateLimit fields on its
// response, set before the upstream answers; a refused one gets a 429
// denial carrying them and Retry-After.
func (a *App) limit(w http.ResponseWriter, r *http.Request, id *Identity, rule string) *problem.Problem {
	b := a.limits.pick(id, rule)
	if b == nil {
		return nil
	}
	key := ""
	if id != nil && id.User != nil {
		key = id.User.ID
	} else {
		key = clientKey(clientIP(r))
	}
	return b.charge(w, key)
}

// pick returns the budget a request draws on, or nil if it is not limited.
func (l *limits) pick(id *Identity, rule string) *budget {
	switch rule {
	case config.LimitNone:
		return nil
	case config.LimitTier:
	default:
		// Rules were compiled against this policy, so the budget exists.
		return l.budgets[rule]
	}
	if id == nil || id.User == nil {
		return l.anonymous
	}
	if b, ok := l.tiers[id.Tier]; ok {
		return b
	}
	return l.fallback
}

// chargeFailure makes a failed authentication (401) draw on the client
// IP's anonymous budget: guessing tokens or passwords is held to the
// anonymous rate. It returns the denial to answer: d, with the RateLimit
// fields set, or a 429 once the budget is spent.
func (a *App) chargeFailure(w http.ResponseWriter, r *http.Request, d *problem.Problem) *problem.Problem {
	if d.Status != http.StatusUnauthorized || a.limits.anonymous == nil {
		return d
	}
	if refused := a.limits.anonymous.charge(w, clientKey(clientIP(r))); refused != nil {
		return refused
	}
	return d
}

// charge decides one request for key.
func (b *budget) charge(w http.ResponseWriter, key string) *problem.Problem {
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
func (b *budget) refusal(d ratelimit.Decision) *problem.Problem {
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

// clientKey is the limiter key of a client without a credential: its
// IPv4 address, or the /64 of its IPv6 address (one subscriber's block;
// a host that owns a /64 could otherwise use a fresh address per request).
// IPv4-mapped IPv6 addresses count as the IPv4 address.
func clientKey(ip string) string {
	if strings.IndexByte(ip, ':') < 0 {
		return ip
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	addr = addr.WithZone("")
	if addr.Is4In6() {
		return addr.Unmap().String()
	}
	prefix, err := addr.Prefix(64)
	if err != nil {
		return ip
	}
	return prefix.String()
}
