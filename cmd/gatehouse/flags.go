package main

import (
	"fmt"
	"strconv"
	"time"
)

// secondsValue is a flag holding a duration written as whole seconds
// ("600") or as a Go duration ("10m").
type secondsValue struct{ d *time.Duration }

// String implements pflag.Value.
func (v *secondsValue) String() string {
	if v.d == nil {
		return ""
	}
	if *v.d%time.Second == 0 {
		return strconv.FormatInt(int64(*v.d/time.Second), 10)
	}
	return v.d.String()
}

// Set implements pflag.Value.
func (v *secondsValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if n, nerr := strconv.ParseInt(s, 10, 64); nerr == nil {
		d, err = time.Duration(n)*time.Second, nil
	}
	if err != nil {
		return fmt.Errorf("%q is neither seconds nor a duration", s)
	}
	if d <= 0 {
		return fmt.Errorf("%q is not positive", s)
	}
	*v.d = d
	return nil
}

// Type implements pflag.Value.
func (v *secondsValue) Type() string { return "seconds" }
