package ratelimit

import (
	"net/netip"
	"strings"
)

// ClientKey is the limiter key of a client without a credential: its
// IPv4 address, or the /64 of its IPv6 address (one subscriber's block;
// a host that owns a /64 could otherwise use a fresh address per request).
// IPv4-mapped IPv6 addresses count as the IPv4 address.
func ClientKey(ip string) string {
	if strings.IndexByte(ip, ':') < 0 {
		return ip
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	addr = addr.WithZone("")
	if addr.Is4In6() {
		return addr.Unmap().String()
	}
	prefix, err := addr.Prefix(64)
	if err != nil {
		return ip
	}
	return prefix.String()
}
