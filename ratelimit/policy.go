package ratelimit

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Policy is a quota: Count requests per Window, with Burst as the largest
// instantaneous burst (0 means Count).
//
// Requests are spread evenly: one unit of budget comes back every
// Window/Count. A key that has been quiet long enough may send Burst requests
// at once, after which it is held to the steady rate.
type Policy struct {
	// Name identifies the policy in the RateLimit and RateLimit-Policy
	// fields, usually the tier ("free", "pro").
	Name string
	// Count is how many requests one key may make per Window.
	Count int
	// Window is the period over which Count applies, a whole number of
	// seconds.
	Window time.Duration
	// Burst is how many requests a rested key may make at once; 0 means
	// Count. It may be larger or smaller than Count.
	Burst int
}

// Bounds that keep the arithmetic in int64 nanoseconds exact and the header
// values valid structured-field Integers.
const (
	// maxQuota is the largest Integer a structured field can carry (RFC 9651).
	maxQuota int64 = 999_999_999_999_999
	// minInterval keeps the truncation of Window/Count below 0.1%.
	minInterval = time.Microsecond
	// maxWindow is long enough for yearly quotas; longer is not a rate.
	maxWindow = 366 * 24 * time.Hour
	// maxTolerance bounds Burst*interval so that now+tolerance cannot
	// overflow an int64 of Unix nanoseconds for centuries.
	maxTolerance = 10 * maxWindow
)

// Validate reports whether p can be enforced and advertised: a name made of
// token characters (so it needs no escaping in a header), a positive Count,
// a Window of at least one second in whole seconds (RateLimit-Policy has no
// sub-second precision), and a non-negative Burst.
func (p Policy) Validate() error {
	if p.Name == "" {
		return errors.New("ratelimit: policy has no name")
	}
	for i := 0; i < len(p.Name); i++ {
		if !isTokenChar(p.Name[i]) {
			return fmt.Errorf("ratelimit: policy name %q: character %q is not allowed (use letters, digits and !#$%%&'*+-.^_`|~)", p.Name, p.Name[i])
		}
	}
	if err := checkRate(p.Count, p.Window); err != nil {
		return fmt.Errorf("ratelimit: policy %q: %w", p.Name, err)
	}
	if p.Burst < 0 {
		return fmt.Errorf("ratelimit: policy %q: burst must not be negative, got %d", p.Name, p.Burst)
	}
	if int64(p.Burst) > maxQuota {
		return fmt.Errorf("ratelimit: policy %q: burst %d is too large (at most %d)", p.Name, p.Burst, maxQuota)
	}
	interval := p.interval()
	if int64(p.capacity()) > int64(maxTolerance/interval) {
		return fmt.Errorf("ratelimit: policy %q: burst %d is more than %v of quota at %d per %v", p.Name, p.capacity(), maxTolerance, p.Count, p.Window)
	}
	return nil
}

// interval is the emission interval T: the time one unit of budget takes to
// come back.
func (p Policy) interval() time.Duration { return p.Window / time.Duration(p.Count) }

// capacity is the burst B, with 0 meaning Count.
func (p Policy) capacity() int {
	if p.Burst == 0 {
		return p.Count
	}
	return p.Burst
}

// ParseRate parses a rate such as "600/1m", "10/1h", "5/1s" or "60/30s":
// a positive decimal count, a slash, and a window in time.ParseDuration
// syntax ("1m30s" works too); a bare unit means one of it ("100/s"). The
// window must be whole seconds and at least one second.
func ParseRate(s string) (count int, window time.Duration, err error) {
	countText, windowText, ok := strings.Cut(s, "/")
	if !ok {
		return 0, 0, fmt.Errorf("ratelimit: rate %q: want COUNT/WINDOW, for example 600/1m", s)
	}
	if count, err = parseCount(countText); err != nil {
		return 0, 0, fmt.Errorf("ratelimit: rate %q: %w", s, err)
	}
	if window, err = parseWindow(windowText); err != nil {
		return 0, 0, fmt.Errorf("ratelimit: rate %q: %w", s, err)
	}
	if err = checkRate(count, window); err != nil {
		return 0, 0, fmt.Errorf("ratelimit: rate %q: %w", s, err)
	}
	return count, window, nil
}

func parseCount(s string) (int, error) {
	if s == "" {
		return 0, errors.New("missing count before the slash")
	}
	// Atoi would accept a sign; a rate has none.
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("count %q is not a whole number", s)
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("count %s is too large", s)
	}
	return n, nil
}

func parseWindow(s string) (time.Duration, error) {
	switch s {
	case "":
		return 0, errors.New("missing window after the slash")
	case "s", "m", "h":
		s = "1" + s
	}
	// ParseDuration would accept a sign; a window has none.
	if s[0] < '0' || s[0] > '9' {
		return 0, fmt.Errorf("window %q is not a duration such as 30s, 1m or 1h", s)
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("window %q is not a duration such as 30s, 1m or 1h", s)
	}
	return d, nil
}

// checkRate holds the rules ParseRate and Validate share, so that every rate
// ParseRate accepts makes a valid Policy.
func checkRate(count int, window time.Duration) error {
	switch {
	case count <= 0:
		return fmt.Errorf("count must be positive, got %d", count)
	case int64(count) > maxQuota:
		return fmt.Errorf("count %d is too large (at most %d)", count, maxQuota)
	case window < time.Second:
		return fmt.Errorf("window must be at least 1s, got %v", window)
	case window%time.Second != 0:
		return fmt.Errorf("window %v is not a whole number of seconds", window)
	case window > maxWindow:
		return fmt.Errorf("window %v is longer than %v (366 days)", window, maxWindow)
	case window/time.Duration(count) < minInterval:
		return fmt.Errorf("%d per %v is more than one request per %v", count, window, minInterval)
	}
	return nil
}

// isTokenChar reports whether c is a tchar of RFC 9110, section 5.6.2.
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
