package ratelimit

import (
	"testing"
	"time"
)

func TestPolicyHeader(t *testing.T) {
	tests := []struct {
		p    Policy
		want string
	}{
		{Policy{Name: "free", Count: 600, Window: time.Minute}, `"free";q=600;w=60`},
		{Policy{Name: "free", Count: 600, Window: time.Minute, Burst: 100}, `"free";q=600;w=60`},
		{Policy{Name: "anonymous", Count: 10, Window: time.Hour}, `"anonymous";q=10;w=3600`},
		{Policy{Name: "pro", Count: 60, Window: 30 * time.Second}, `"pro";q=60;w=30`},
		{Policy{Name: "enterprise", Count: 1, Window: 24 * time.Hour}, `"enterprise";q=1;w=86400`},
		// Names that skipped Validate still give a well-formed sf-string.
		{Policy{Name: `a"b\c`, Count: 1, Window: time.Second}, `"a\"b\\c";q=1;w=1`},
		{Policy{Name: "x\r\ny", Count: 1, Window: time.Second}, `"x??y";q=1;w=1`},
	}
	for _, tt := range tests {
		if got := tt.p.PolicyHeader(); got != tt.want {
			t.Errorf("%+v.PolicyHeader() = %s; want %s", tt.p, got, tt.want)
		}
	}
}

func TestDecisionHeader(t *testing.T) {
	free := Policy{Name: "free", Count: 600, Window: time.Minute, Burst: 100}
	tests := []struct {
		name       string
		d          Decision
		header     string
		retryAfter int
	}{
		{"allowed, t rounded up", allowed(17, 41*time.Second+time.Millisecond), `"free";r=17;t=42`, 0},
		{"allowed, whole seconds", allowed(17, 42*time.Second), `"free";r=17;t=42`, 0},
		{"allowed, under a second", allowed(99, 100*time.Millisecond), `"free";r=99;t=1`, 0},
		{"allowed, last unit", allowed(0, 10*time.Second), `"free";r=0;t=10`, 0},
		// Refused: t is the Retry-After value, so that Retry-After does not
		// end before the effective window (draft section 6).
		{"refused", refused(10*time.Second, 100*time.Millisecond), `"free";r=0;t=1`, 1},
		{"refused, long wait", refused(time.Hour, 6*time.Minute), `"free";r=0;t=360`, 360},
		{"refused, rounds up", refused(time.Hour, 6*time.Minute+time.Nanosecond), `"free";r=0;t=361`, 361},
		{"refused, tiny wait", refused(time.Second, time.Nanosecond), `"free";r=0;t=1`, 1},
		{"refused zero value", Decision{}, `"free";r=0;t=1`, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.d.Header(free); got != tt.header {
				t.Errorf("Header = %s; want %s", got, tt.header)
			}
			if got := tt.d.RetryAfterSeconds(); got != tt.retryAfter {
				t.Errorf("RetryAfterSeconds = %d; want %d", got, tt.retryAfter)
			}
		})
	}
}

func TestHeadersFromLimiter(t *testing.T) {
	// The brief's example end to end: 100 at once, the 101st refused for
	// 100ms, which a client sees as Retry-After: 1.
	p := Policy{Name: "free", Count: 600, Window: time.Minute, Burst: 100}
	l, _ := newTestLimiter(t, p, Options{})
	var d Decision
	for range 83 {
		d = l.Allow("alice")
	}
	if got, want := d.Header(p), `"free";r=17;t=9`; got != want {
		t.Errorf("after 83 requests: RateLimit = %s; want %s", got, want)
	}
	for range 17 {
		l.Allow("alice")
	}
	d = l.Allow("alice")
	if got, want := d.Header(p), `"free";r=0;t=1`; got != want || d.RetryAfterSeconds() != 1 {
		t.Errorf("101st: RateLimit = %s, Retry-After = %d; want %s, 1", got, d.RetryAfterSeconds(), want)
	}
	if got, want := l.Policy().PolicyHeader(), `"free";q=600;w=60`; got != want {
		t.Errorf("RateLimit-Policy = %s; want %s", got, want)
	}
}
