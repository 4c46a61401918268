package ratelimit

import "testing"

func TestClientKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ ip, want string }{
		{"203.0.113.7", "203.0.113.7"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2::ffff", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"::ffff:203.0.113.7", "203.0.113.7"},
		{"not-an-ip:1", "not-an-ip:1"},
	} {
		if got := ClientKey(tc.ip); got != tc.want {
			t.Errorf("ClientKey(%q) = %q, want %q", tc.ip, got, tc.want)
		}
	}
}
