package caddymodule

import (
	"fmt"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/gate"
	"github.com/gatehouse/gatehouse/ratelimit"
)

// Rate limiting: package gate picks and charges the budgets (see its
// quota.go); this file keeps the limiters behind them. Limiter state lives
// in a pool shared by config generations, keyed by the policy's signature
// (kind, name, rate, burst): a reload keeps every budget whose policy did
// not change and starts a changed one afresh. Registration has its own
// per-IP limit (register.go).

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
	limitKindScanner      = "scanner"
)

// scannerLimit is the per-IP limit of leaked-credential reports
// (POST /api/credentials/revoke): generous for a scanner, whose report
// holds up to a thousand strings, and small for anyone probing.
var scannerLimit = config.Tier{Name: "credential_revocation", Rate: "60/1m", Burst: 20}

// registrationPolicy names the per-IP registration limit in the RateLimit
// fields.
const registrationPolicy = "registration"

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

// limits are a config generation's budgets.
type limits struct {
	gate.Budgets
	// registration is the per-IP limit of agent registration; nil when
	// registration is not configured.
	registration *gate.Budget
	// scanner is the per-IP limit of leaked-credential reports.
	scanner *gate.Budget
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
	l := limits{Budgets: gate.Budgets{Tiers: map[string]*gate.Budget{}, Named: map[string]*gate.Budget{}}}
	take := func(kind string, t config.Tier) (*gate.Budget, error) {
		b, key, err := acquireBudget(kind, t)
		if err != nil {
			return nil, err
		}
		l.poolKeys = append(l.poolKeys, key)
		return b, nil
	}
	var err error
	for name, t := range p.Tiers {
		if l.Tiers[name], err = take(limitKindTier, t); err != nil {
			break
		}
	}
	for name, t := range p.Budgets {
		if err != nil {
			break
		}
		l.Named[name], err = take(limitKindBudget, t)
	}
	if r := p.Registration; r != nil && err == nil {
		l.registration, err = take(limitKindRegistration, config.Tier{Name: registrationPolicy, Rate: r.Limit})
	}
	if err == nil {
		l.scanner, err = take(limitKindScanner, scannerLimit)
	}
	if err != nil {
		releasePooled(l.poolKeys)
		return fmt.Errorf("gatehouse rate limits: %w", err)
	}
	l.Anonymous = l.Tiers[config.AnonymousTier]
	l.Fallback = l.Tiers[p.DefaultTier]
	if len(l.Tiers) > 0 && l.Anonymous == nil {
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
func acquireBudget(kind string, t config.Tier) (*gate.Budget, string, error) {
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
	return gate.NewBudget(val.(*pooledLimiter).limiter, policy, rateLimited.WithLabelValues(policy.Name)), key, nil
}
