package caddymodule

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse/gatehouse/problem"
)

// Collectors are created once per process and registered with each config
// generation's registry: Caddy gives every reload a fresh registry and
// points /metrics at it.
var (
	decisions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "gatehouse", Name: "decisions_total",
		Help: "Requests decided by Gatehouse, by outcome (allow, deny) and reason.",
	}, []string{"outcome", "reason"})
	rateLimited = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "gatehouse", Name: "rate_limited_total",
		Help: "Requests refused for exceeding their tier or budget, by policy.",
	}, []string{"policy"})
	deviceFlow = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "gatehouse", Name: "device_flow_total",
		Help: "Device authorization grant events: issued, approved, denied, expired, token_issued.",
	}, []string{"event"})
	identityLogins = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "gatehouse", Name: "identity_logins_total",
		Help: "Sign-ins through identity providers, by provider and outcome (success, or the refusal's reason).",
	}, []string{"provider", "outcome"})
	storeLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "gatehouse", Name: "store_seconds",
		Help:    "Latency of store transactions (cache misses and writes), by operation.",
		Buckets: []float64{.00001, .00005, .0001, .0005, .001, .005, .01, .05, .1},
	}, []string{"op"})
)

func registerMetrics(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{decisions, rateLimited, deviceFlow, identityLogins, storeLatency, fleetMetrics{}} {
		if err := reg.Register(c); err != nil {
			var already prometheus.AlreadyRegisteredError
			if !errors.As(err, &already) {
				return err
			}
		}
	}
	return nil
}

// allowed is resolved once: every allowed request increments it.
var allowed = decisions.WithLabelValues("allow", "ok")

func countDecision(d *problem.Problem) {
	if d == nil {
		allowed.Inc()
		return
	}
	decisions.WithLabelValues("deny", d.Reason).Inc()
}

// metricsSink counts the endpoints' answers in the collectors above.
type metricsSink struct{}

func (metricsSink) Decision(d *problem.Problem) { countDecision(d) }
func (metricsSink) DeviceFlow(event string)     { deviceFlow.WithLabelValues(event).Inc() }
func (metricsSink) IdentityLogin(provider, outcome string) {
	identityLogins.WithLabelValues(provider, outcome).Inc()
}

// observeStore feeds the store's transaction latencies to storeLatency.
func observeStore(op string, d time.Duration) {
	storeLatency.WithLabelValues(op).Observe(d.Seconds())
}
