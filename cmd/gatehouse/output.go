package main

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/client"
)

// expiryWarning is how close an expiry has to be for a warning.
const expiryWarning = 7 * 24 * time.Hour

// expiryState says when a token expires, relative to now: `never
// expires`, `expired on …`, `expires in 3 days` within a week, else
// `valid until …`.
func expiryState(now, exp time.Time) string {
	switch {
	case exp.IsZero():
		return "never expires"
	case !now.Before(exp):
		return "expired on " + client.FormatTime(exp)
	case exp.Sub(now) <= expiryWarning:
		return "expires in " + roughDuration(exp.Sub(now))
	}
	return "valid until " + client.FormatTime(exp)
}

// roughDuration writes a duration the way a person says it: `3 days`,
// `5 hours`, `12 minutes`.
func roughDuration(d time.Duration) string {
	unit := func(n float64, name string) string {
		r := int(math.Round(n))
		if r == 1 {
			return "1 " + name
		}
		return fmt.Sprintf("%d %ss", r, name)
	}
	switch {
	case d >= 36*time.Hour:
		return unit(d.Hours()/24, "day")
	case d >= 90*time.Minute:
		return unit(d.Hours(), "hour")
	case d >= time.Minute:
		return unit(d.Minutes(), "minute")
	}
	return "less than a minute"
}

// scopesText writes scopes for a line of output.
func scopesText(scopes []string) string {
	if len(scopes) == 0 {
		return "no scopes"
	}
	return strings.Join(scopes, " ")
}
