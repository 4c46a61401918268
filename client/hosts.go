package client

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// HostsFileVersion is the version of the hosts.yml layout this package
// writes. A file with a newer version is read but never rewritten.
const HostsFileVersion = 1

// HostsFile is the content of hosts.yml: one entry per server, keyed by
// the server's normalised origin (see [NormalizeHost]), and the default
// server chosen with `gatehouse config set server HOST`.
type HostsFile struct {
	// Version is the layout version; 0 in a file means 1.
	Version int `yaml:"version,omitempty"`
	// DefaultServer is the normalised origin used when no server is given
	// and several are stored. Empty means none was chosen.
	DefaultServer string `yaml:"default_server,omitempty"`
	// Hosts maps a normalised origin to what is stored for it.
	Hosts map[string]*Host `yaml:"hosts,omitempty"`
}

// Host is what is stored for one server: the token and what the server
// said about it when it was stored, so that messages can name the user,
// the token's hint and its expiry without asking the server.
type Host struct {
	// Token is the personal access token, sent as a Bearer token.
	Token string `yaml:"token"`
	// User is the login of the token's owner.
	User string `yaml:"user,omitempty"`
	// AddedAt is when the token was stored.
	AddedAt time.Time `yaml:"added_at"`
	// TokenID is the server's public id of the token.
	TokenID string `yaml:"token_id,omitempty"`
	// TokenHint is the displayable prefix of the token (`gth_abcd****`).
	TokenHint string `yaml:"token_hint,omitempty"`
	// TokenName is the name given to the token at approval.
	TokenName string `yaml:"token_name,omitempty"`
	// Scopes are the scopes the token holds.
	Scopes []string `yaml:"scopes,omitempty,flow"`
	// ExpiresAt is when the token expires; zero means it does not.
	ExpiresAt time.Time `yaml:"expires_at,omitempty"`
}

// String describes the entry without its secret, so that a Host printed by
// mistake (%v, a log line) never shows the token.
func (h Host) String() string {
	return fmt.Sprintf("{user %s, token %s}", h.User, h.Hint())
}

// GoString is [Host.String], for %#v.
func (h Host) GoString() string { return h.String() }

// Hint is the stored token hint, or one computed from the token.
func (h Host) Hint() string {
	if h.TokenHint != "" {
		return h.TokenHint
	}
	return TokenHint(h.Token)
}

// TokenHint is the displayable form of a token: its prefix up to and
// including the last underscore, its first four characters after that, and
// `****` (`gth_abcd****`). It never reveals more than those four.
func TokenHint(token string) string {
	if token == "" {
		return "(none)"
	}
	prefix, rest := "", token
	if i := strings.LastIndexByte(token, '_'); i >= 0 && i < len(token)-1 {
		prefix, rest = token[:i+1], token[i+1:]
	}
	if len(rest) > 4 {
		rest = rest[:4]
	} else {
		rest = ""
	}
	return prefix + rest + "****"
}

// ErrNotLoggedIn is wrapped when no token is stored for the server asked
// for, or when no server is stored at all.
var ErrNotLoggedIn = errors.New("not logged in")

// ErrAmbiguousHost is wrapped when several servers are stored, none is the
// default, and none was named.
var ErrAmbiguousHost = errors.New("several servers stored and none chosen")

// Resolve picks the server a command acts on: server if it is not empty
// (normalised), else the default server, else the only stored server. It
// returns the normalised key and its entry; the error wraps
// [ErrNotLoggedIn] when that server has no token, [ErrAmbiguousHost] when
// none can be chosen, and [ErrInvalidHost] for a bad server.
//
// cli names the command for the fix in messages (`gatehouse`).
func (f *HostsFile) Resolve(server, cli string) (string, *Host, error) {
	if cli == "" {
		cli = DefaultCLIName
	}
	key := ""
	switch {
	case server != "":
		k, err := NormalizeHost(server)
		if err != nil {
			return "", nil, err
		}
		key = k
	case f != nil && f.DefaultServer != "":
		key = f.DefaultServer
	case f != nil && len(f.Hosts) == 1:
		for k := range f.Hosts {
			key = k
		}
	case f == nil || len(f.Hosts) == 0:
		return "", nil, fmt.Errorf("%w to any server; run: %s auth login -s HOST", ErrNotLoggedIn, cli)
	default:
		names := make([]string, 0, len(f.Hosts))
		for _, k := range f.SortedHosts() {
			names = append(names, DisplayHost(k))
		}
		return "", nil, fmt.Errorf("%w (%s); name one with -s HOST, or choose a default: %s config set server HOST",
			ErrAmbiguousHost, strings.Join(names, ", "), cli)
	}
	h := f.Host(key)
	if h == nil || h.Token == "" {
		return key, nil, fmt.Errorf("%w to %s; run: %s auth login -s %s", ErrNotLoggedIn, DisplayHost(key), cli, DisplayHost(key))
	}
	return key, h, nil
}

// Host returns the entry stored for a normalised key, or nil.
func (f *HostsFile) Host(key string) *Host {
	if f == nil {
		return nil
	}
	return f.Hosts[key]
}

// SetHost stores h for a normalised key, replacing what was there.
func (f *HostsFile) SetHost(key string, h *Host) {
	if f.Hosts == nil {
		f.Hosts = make(map[string]*Host)
	}
	f.Hosts[key] = h
}

// RemoveHost forgets a normalised key, and the default server if it was
// that key. It reports whether an entry was removed.
func (f *HostsFile) RemoveHost(key string) bool {
	_, ok := f.Hosts[key]
	delete(f.Hosts, key)
	if f.DefaultServer == key {
		f.DefaultServer = ""
	}
	return ok
}

// SortedHosts returns the stored keys in order.
func (f *HostsFile) SortedHosts() []string {
	if f == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(f.Hosts))
}

// normalize checks a decoded file and re-keys its entries by normalised
// host, so that a hand-edited `example.com:` entry is found as
// `https://example.com`.
func (f *HostsFile) normalize() error {
	if f.Version > HostsFileVersion {
		return fmt.Errorf("version %d was written by a newer gatehouse (this one knows version %d)", f.Version, HostsFileVersion)
	}
	if f.DefaultServer != "" {
		k, err := NormalizeHost(f.DefaultServer)
		if err != nil {
			return fmt.Errorf("default_server: %w", err)
		}
		f.DefaultServer = k
	}
	hosts := make(map[string]*Host, len(f.Hosts))
	for raw, h := range f.Hosts {
		k, err := NormalizeHost(raw)
		if err != nil {
			return fmt.Errorf("hosts: %w", err)
		}
		if _, dup := hosts[k]; dup {
			return fmt.Errorf("hosts: %q and another entry are both %s", raw, k)
		}
		if h == nil {
			h = &Host{}
		}
		hosts[k] = h
	}
	f.Hosts = hosts
	return nil
}
