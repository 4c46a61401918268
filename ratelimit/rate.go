package ratelimit

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseRate parses "count/window" such as "600/1m".
func ParseRate(s string) (int, time.Duration, error) {
	c, w, ok := strings.Cut(s, "/")
	n, err := strconv.Atoi(c)
	if !ok || err != nil || n <= 0 {
		return 0, 0, fmt.Errorf("rate %q: want count/window such as 600/1m", s)
	}
	d, err := time.ParseDuration(w)
	if err != nil || d < time.Second {
		return 0, 0, fmt.Errorf("rate %q: window must be a duration of at least 1s", s)
	}
	return n, d, nil
}
