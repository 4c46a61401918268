package ratelimit

import (
	"strings"
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	tests := []struct {
		in     string
		count  int
		window time.Duration
	}{
		{"600/1m", 600, time.Minute},
		{"10/1h", 10, time.Hour},
		{"5/1s", 5, time.Second},
		{"60/30s", 60, 30 * time.Second},
		{"100/s", 100, time.Second},
		{"1/h", 1, time.Hour},
		{"90/1m30s", 90, 90 * time.Second},
		{"1000000/1s", 1_000_000, time.Second},
		{"007/1m", 7, time.Minute},
	}
	for _, tt := range tests {
		count, window, err := ParseRate(tt.in)
		if err != nil || count != tt.count || window != tt.window {
			t.Errorf("ParseRate(%q) = %d, %v, %v; want %d, %v, nil", tt.in, count, window, err, tt.count, tt.window)
		}
	}
}

func TestParseRateErrors(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string // a fragment the message must contain to be useful
	}{
		{"", "want COUNT/WINDOW"},
		{"abc", "want COUNT/WINDOW"},
		{"600", "want COUNT/WINDOW"},
		{"/1m", "missing count"},
		{"10/", "missing window"},
		{"0/1m", "count must be positive"},
		{"-5/1m", `count "-5" is not a whole number`},
		{"+5/1m", `count "+5" is not a whole number`},
		{"5.5/1m", "not a whole number"},
		{" 5/1m", "not a whole number"},
		{"abc/1m", "not a whole number"},
		{"99999999999999999999/1h", "too large"},
		{"9999999999999999/1h", "too large"},
		{"10/0s", "at least 1s"},
		{"10/0", "at least 1s"},
		{"10/500ms", "at least 1s"},
		{"10/-1m", "not a duration"},
		{"10/1", "not a duration"},
		{"10/abc", "not a duration"},
		{"10/1d", "not a duration"},
		{"10/1.5s", "whole number of seconds"},
		{"10/99999999999h", "not a duration"},
		{"10/9000h", "longer than"},
		{"2000000/1s", "more than one request per 1µs"},
		{"10/1m/1h", "not a duration"},
	}
	for _, tt := range tests {
		count, window, err := ParseRate(tt.in)
		if err == nil {
			t.Errorf("ParseRate(%q) = %d, %v, nil; want an error", tt.in, count, window)
			continue
		}
		if !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("ParseRate(%q) error = %q; want it to mention %q", tt.in, err, tt.wantErr)
		}
		if !strings.HasPrefix(err.Error(), "ratelimit: rate ") {
			t.Errorf("ParseRate(%q) error = %q; want it to name the rate", tt.in, err)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := Policy{Name: "free", Count: 600, Window: time.Minute}
	tests := []struct {
		name    string
		edit    func(*Policy)
		wantErr string // "" means valid
	}{
		{"minimal", func(*Policy) {}, ""},
		{"burst below count", func(p *Policy) { p.Burst = 100 }, ""},
		{"burst above count", func(p *Policy) { p.Burst = 6000 }, ""},
		{"token punctuation", func(p *Policy) { p.Name = "pro.v2-beta_x" }, ""},
		{"yearly", func(p *Policy) { p.Count, p.Window = 1, maxWindow }, ""},
		{"no name", func(p *Policy) { p.Name = "" }, "no name"},
		{"space in name", func(p *Policy) { p.Name = "free tier" }, "not allowed"},
		{"quote in name", func(p *Policy) { p.Name = `fr"ee` }, "not allowed"},
		{"non-ASCII name", func(p *Policy) { p.Name = "grátis" }, "not allowed"},
		{"zero count", func(p *Policy) { p.Count = 0 }, "count must be positive"},
		{"negative count", func(p *Policy) { p.Count = -1 }, "count must be positive"},
		{"huge count", func(p *Policy) { p.Count = 1 << 60 }, "too large"},
		{"zero window", func(p *Policy) { p.Window = 0 }, "at least 1s"},
		{"negative window", func(p *Policy) { p.Window = -time.Minute }, "at least 1s"},
		{"sub-second window", func(p *Policy) { p.Window = 999 * time.Millisecond }, "at least 1s"},
		{"fractional window", func(p *Policy) { p.Window = 1500 * time.Millisecond }, "whole number"},
		{"window too long", func(p *Policy) { p.Window = maxWindow + time.Second }, "longer than"},
		{"rate too high", func(p *Policy) { p.Count, p.Window = 2_000_000, time.Second }, "more than one request"},
		{"negative burst", func(p *Policy) { p.Burst = -1 }, "must not be negative"},
		{"burst overflows", func(p *Policy) { p.Burst = 1 << 62 }, "too large"},
		{"burst spans too long", func(p *Policy) { p.Count, p.Window, p.Burst = 1, maxWindow, 11 }, "of quota at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ok
			tt.edit(&p)
			err := p.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Validate(%+v) = %v; want nil", p, err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("Validate(%+v) = nil; want an error mentioning %q", p, tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("Validate(%+v) = %q; want it to mention %q", p, err, tt.wantErr)
			}
			if _, err := New(p, Options{}); (err == nil) != (tt.wantErr == "") {
				t.Fatalf("New(%+v) error = %v; want it to agree with Validate", p, err)
			}
		})
	}
}

// FuzzParseRate checks that whatever ParseRate accepts makes a valid Policy,
// so that a rate from the Caddyfile can never make New fail or the GCRA
// arithmetic overflow.
func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"600/1m", "10/1h", "100/s", "10/0s", "10/", "abc", "1/8784h", "1000000/1s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		count, window, err := ParseRate(s)
		if err != nil {
			return
		}
		p := Policy{Name: "fuzz", Count: count, Window: window}
		if err := p.Validate(); err != nil {
			t.Fatalf("ParseRate(%q) = %d, %v, but Validate: %v", s, count, window, err)
		}
		if _, err := New(p, Options{MaxKeys: 1}); err != nil {
			t.Fatalf("ParseRate(%q) accepted, New: %v", s, err)
		}
	})
}
