package client

import (
	"errors"
	"testing"
)

func TestNormalizeHost(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"example.com", "https://example.com"},
		{"Example.COM", "https://example.com"},
		{"  example.com  ", "https://example.com"},
		{"example.com:8443", "https://example.com:8443"},
		{"example.com:443", "https://example.com"},
		{"https://example.com/", "https://example.com"},
		{"HTTPS://Example.com:443", "https://example.com"},
		{"http://example.com", "http://example.com"},
		{"http://example.com:80", "http://example.com"},
		{"https://example.com:8080", "https://example.com:8080"},
		{"localhost", "http://localhost"},
		{"localhost:8080", "http://localhost:8080"},
		{"LOCALHOST:8080", "http://localhost:8080"},
		{"https://localhost:8443", "https://localhost:8443"},
		{"127.0.0.1:2015", "http://127.0.0.1:2015"},
		{"127.1.2.3", "http://127.1.2.3"},
		{"[::1]:2015", "http://[::1]:2015"},
		{"::1", "http://[::1]"},
		{"[::1]", "http://[::1]"},
		{"2001:db8::1", "https://[2001:db8::1]"},
		{"[2001:db8::1]:8443", "https://[2001:db8::1]:8443"},
		{"10.0.0.1", "https://10.0.0.1"},
		{"example.com:08080", "https://example.com:8080"},
	}
	for _, tt := range tests {
		got, err := NormalizeHost(tt.in)
		if err != nil {
			t.Errorf("NormalizeHost(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("NormalizeHost(%q) = %q, want %q", tt.in, got, tt.want)
		}
		// Normalising is idempotent, and the display form round-trips.
		if again, err := NormalizeHost(got); err != nil || again != got {
			t.Errorf("NormalizeHost(%q) = %q, %v; want it unchanged", got, again, err)
		}
		if back, err := NormalizeHost(DisplayHost(got)); err != nil || back != got {
			t.Errorf("NormalizeHost(DisplayHost(%q) = %q) = %q, %v", got, DisplayHost(got), back, err)
		}
	}
}

func TestNormalizeHostRejects(t *testing.T) {
	for _, in := range []string{
		"", "   ", "example.com/path", "https://example.com/api", "https://example.com?x=1",
		"https://example.com#f", "https://user:pw@example.com", "ftp://example.com",
		"example.com:0", "example.com:65536", "example.com:http", "example.com:", "https://",
		"exa mple.com", "exa\tmple.com", "https://:8080",
	} {
		got, err := NormalizeHost(in)
		if err == nil {
			t.Errorf("NormalizeHost(%q) = %q, want an error", in, got)
			continue
		}
		if !errors.Is(err, ErrInvalidHost) {
			t.Errorf("NormalizeHost(%q) error %v does not wrap ErrInvalidHost", in, err)
		}
	}
}

func TestDisplayHost(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://example.com", "example.com"},
		{"https://example.com:8443", "example.com:8443"},
		{"http://example.com", "http://example.com"},
		{"http://localhost:8080", "localhost:8080"},
		{"https://localhost:8443", "https://localhost:8443"},
		{"http://[::1]:2015", "[::1]:2015"},
	}
	for _, tt := range tests {
		if got := DisplayHost(tt.in); got != tt.want {
			t.Errorf("DisplayHost(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestIsPlainHTTP(t *testing.T) {
	tests := map[string]bool{
		"http://example.com":    true,
		"https://example.com":   false,
		"http://localhost:8080": false,
		"http://127.0.0.1":      false,
		"http://[::1]:1":        false,
	}
	for in, want := range tests {
		if got := IsPlainHTTP(in); got != want {
			t.Errorf("IsPlainHTTP(%q) = %v, want %v", in, got, want)
		}
	}
}

func FuzzNormalizeHost(f *testing.F) {
	for _, s := range []string{"example.com", "localhost:8080", "[::1]:1", "https://x/", "http://a:b@c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeHost(s)
		if err != nil {
			return
		}
		again, err := NormalizeHost(got)
		if err != nil || again != got {
			t.Fatalf("NormalizeHost(%q) = %q, but normalising that gives %q, %v", s, got, again, err)
		}
	})
}
