package ratelimit

import (
	"strconv"
	"time"
)

// Field values of draft-ietf-httpapi-ratelimit-headers-11. Both fields are
// structured-field Lists (RFC 9651) whose items are the policy name as a
// String with Integer parameters; a gateway that applies one policy per
// request sends a one-item list.

// PolicyHeader returns the RateLimit-Policy field value for p, such as
// `"free";q=600;w=60`: q is Count and w is Window in seconds. Burst is not
// advertised; the draft has no parameter for it.
func (p Policy) PolicyHeader() string {
	b := make([]byte, 0, 64)
	b = appendName(b, p.Name)
	b = append(b, ";q="...)
	b = strconv.AppendInt(b, int64(p.Count), 10)
	b = append(b, ";w="...)
	b = strconv.AppendInt(b, int64(p.Window/time.Second), 10)
	return string(b)
}

// Header returns the RateLimit field value for d under p, such as
// `"free";r=17;t=42`: r is Remaining and t is Reset in seconds, rounded up
// so that a client waiting t seconds is never early. For a refused request
// t is RetryAfterSeconds instead: r=0 holds exactly until then, and the draft
// (section 6) asks that Retry-After not end before the effective window.
func (d Decision) Header(p Policy) string {
	t := ceilSeconds(d.Reset)
	if !d.Allowed {
		t = int64(d.RetryAfterSeconds())
	}
	b := make([]byte, 0, 64)
	b = appendName(b, p.Name)
	b = append(b, ";r="...)
	b = strconv.AppendInt(b, int64(max(d.Remaining, 0)), 10)
	b = append(b, ";t="...)
	b = strconv.AppendInt(b, t, 10)
	return string(b)
}

// RetryAfterSeconds returns the Retry-After value for a refused request:
// RetryAfter in whole seconds, rounded up because a client that comes back
// early is refused again, and at least 1. It returns 0 when d.Allowed.
func (d Decision) RetryAfterSeconds() int {
	if d.Allowed {
		return 0
	}
	return int(max(ceilSeconds(d.RetryAfter), 1))
}

func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

// appendName appends name as a structured-field String. Validate admits only
// token characters, which need no escaping; the escaping and replacement
// here keep the field well-formed even for a Policy that skipped Validate.
func appendName(b []byte, name string) []byte {
	b = append(b, '"')
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20 || c > 0x7e:
			b = append(b, '?')
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
