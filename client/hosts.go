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
// Version 1 files (one token per host, in the file) are read as they are
// and gain the new fields on their next write.
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
	// PreviousServer is the default before the last change, for
	// `gatehouse config set server -`.
	PreviousServer string `yaml:"previous_server,omitempty"`
	// Hosts maps a normalised origin to what is stored for it.
	Hosts map[string]*Host `yaml:"hosts,omitempty"`
}

// Credential kinds of a stored account.
const (
	// KindPAT is a personal access token (the default, and what version 1
	// files hold).
	KindPAT = "pat"
	// KindSession is a CLI session: a short-lived access JWT in Token
	// and the refresh token that renews it.
	KindSession = "session"
)

// Account states that are stored (the others are decided when asked).
const (
	// StateInvalidated: the server refused to refresh the session
	// (revoked, expired, reused); only a new login helps.
	StateInvalidated = "invalidated"
)

// Where an account's secrets live ([Host.Storage]).
const (
	// StorageFile: in hosts.yml itself (mode 0600).
	StorageFile = "file"
	// StorageKeyring: in the system keychain; hosts.yml holds only the
	// metadata.
	StorageKeyring = "keyring"
)

// Host is what is stored for one server: the active account's
// credential and what the server said about it when it was stored, so
// that messages can name the user, the token's hint and its expiry
// without asking the server; the server's other accounts; and the
// server's connection settings.
//
// The credential fields describe one account; in Accounts they describe
// that account, and Accounts, Insecure and CAFile are unused there.
type Host struct {
	// Token is the personal access token, or a session's access JWT,
	// sent as a Bearer token. Empty in the file when Storage is
	// StorageKeyring (the store fills it in when it reads the file).
	Token string `yaml:"token,omitempty"`
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
	// ExpiresAt is when the token expires; zero means it does not (or,
	// for a session's access token, that it is not known).
	ExpiresAt time.Time `yaml:"expires_at,omitempty"`

	// Kind is KindPAT (also when empty) or KindSession.
	Kind string `yaml:"kind,omitempty"`
	// RefreshToken renews a session's access token; like Token, it is
	// empty in the file when the secret is in the keychain.
	RefreshToken string `yaml:"refresh_token,omitempty"`
	// RefreshExpiresAt is when the session ends, whatever is refreshed.
	RefreshExpiresAt time.Time `yaml:"refresh_expires_at,omitempty"`
	// SessionID is the server's id of the session.
	SessionID string `yaml:"session_id,omitempty"`
	// State is StateInvalidated once the server refused a refresh; empty
	// otherwise.
	State string `yaml:"state,omitempty"`
	// Storage is where the secrets live: StorageKeyring, StorageFile, or
	// empty for a file written before the keychain was supported (the
	// secret is in the file, and moves to the keychain on the next
	// write where one is available).
	Storage string `yaml:"storage,omitempty"`

	// Accounts are the server's other accounts, by login; the account
	// above is the active one, which commands use unless told otherwise.
	Accounts map[string]*Host `yaml:"accounts,omitempty"`
	// Insecure skips the verification of the server's TLS certificate
	// (`--insecure`, for a self-signed edge); CAFile is a PEM file of
	// certificate authorities to trust for it instead (`--ca-file`).
	Insecure bool   `yaml:"insecure,omitempty"`
	CAFile   string `yaml:"ca_file,omitempty"`

	// secretErr is why the secrets could not be read from the keychain.
	secretErr error
	// storageNote is why the last write kept the secrets in the file
	// although a keychain was configured.
	storageNote error
}

// StorageNote is why the last [Store.Update] kept the account's secrets
// in hosts.yml although the store has a keychain; nil otherwise.
func (h *Host) StorageNote() error { return h.storageNote }

// IsSession reports whether the account is a CLI session.
func (h *Host) IsSession() bool { return h != nil && h.Kind == KindSession }

// SecretError is why the account's secrets could not be read from the
// keychain when the file was loaded; nil when they were, or when they
// live in the file.
func (h *Host) SecretError() error { return h.secretErr }

// Credential is a copy of the account's credential alone, without the
// server's other accounts and settings; nil for nil.
func (h *Host) Credential() *Host {
	if h == nil {
		return nil
	}
	return h.credential()
}

// credential is a copy of the account's credential alone, without the
// server's other accounts and settings.
func (h *Host) credential() *Host {
	c := *h
	c.Accounts, c.Insecure, c.CAFile = nil, false, ""
	c.Scopes = slices.Clone(h.Scopes)
	return &c
}

// setCredential replaces the account's credential by c's, keeping the
// server's other accounts and settings.
func (h *Host) setCredential(c *Host) {
	accounts, insecure, caFile := h.Accounts, h.Insecure, h.CAFile
	*h = *c.credential()
	h.Accounts, h.Insecure, h.CAFile = accounts, insecure, caFile
}

// Account returns the credential of the account with login user (the
// active one for ""), or nil. The result of the active account is h
// itself.
func (h *Host) Account(user string) *Host {
	if h == nil {
		return nil
	}
	if user == "" || strings.EqualFold(h.User, user) {
		if h.Token == "" && h.RefreshToken == "" && h.Storage != StorageKeyring && user != "" {
			return nil
		}
		return h
	}
	for login, a := range h.Accounts {
		if strings.EqualFold(login, user) {
			return a
		}
	}
	return nil
}

// AccountNames lists the logins of the server's accounts, the active one
// first, the others in order.
func (h *Host) AccountNames() []string {
	if h == nil {
		return nil
	}
	var out []string
	if h.hasActive() {
		out = append(out, h.User)
	}
	for _, login := range slices.Sorted(maps.Keys(h.Accounts)) {
		if !strings.EqualFold(login, h.User) || !h.hasActive() {
			out = append(out, login)
		}
	}
	return out
}

// hasActive reports whether the entry holds an active account.
func (h *Host) hasActive() bool {
	return h.Token != "" || h.RefreshToken != "" || h.Storage == StorageKeyring || h.User != ""
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
	if h != nil && h.secretErr != nil {
		return key, nil, fmt.Errorf("the token for %s is in the system keychain, which cannot be read (%w); unlock it, or log in again with --insecure-storage",
			DisplayHost(key), h.secretErr)
	}
	if h == nil || (h.Token == "" && h.RefreshToken == "") {
		return key, nil, fmt.Errorf("%w to %s; run: %s auth login -s %s", ErrNotLoggedIn, DisplayHost(key), cli, DisplayHost(key))
	}
	return key, h, nil
}

// ResolveAccount is Resolve for the account with login user (the active
// one for ""); the error wraps [ErrUnknownAccount] when the server has no
// such account.
func (f *HostsFile) ResolveAccount(server, user, cli string) (string, *Host, error) {
	if user == "" {
		return f.Resolve(server, cli)
	}
	key, h, err := f.Resolve(server, cli)
	if err != nil && !errors.Is(err, ErrNotLoggedIn) {
		return key, nil, err
	}
	if key == "" {
		return "", nil, err
	}
	a := f.Host(key).Account(user)
	if a == nil {
		return key, nil, fmt.Errorf("%w %q on %s; run: %s auth login -s %s", ErrUnknownAccount, user, DisplayHost(key), cliName(cli), DisplayHost(key))
	}
	if a.secretErr != nil {
		return key, nil, fmt.Errorf("the token of %s on %s is in the system keychain, which cannot be read (%w)", user, DisplayHost(key), a.secretErr)
	}
	_ = h
	return key, a, nil
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

// SetAccount stores acct as the active account of the server with key,
// keeping the server's settings: an account of the same login is
// replaced, and the previously active account of another login stays as
// one of the server's accounts (logging in as bob does not forget
// alice).
func (f *HostsFile) SetAccount(key string, acct *Host) {
	h := f.Host(key)
	if h == nil {
		h = &Host{}
		f.SetHost(key, h)
	}
	if h.hasActive() && !strings.EqualFold(h.User, acct.User) {
		if h.Accounts == nil {
			h.Accounts = map[string]*Host{}
		}
		h.Accounts[accountKey(h.User)] = h.credential()
	}
	for login := range h.Accounts {
		if strings.EqualFold(login, acct.User) {
			delete(h.Accounts, login)
		}
	}
	h.setCredential(acct)
	if len(h.Accounts) == 0 {
		h.Accounts = nil
	}
}

// accountKey is the key of an account in Host.Accounts.
func accountKey(login string) string {
	if login == "" {
		return "?"
	}
	return login
}

// UpdateAccount lets fn change the account with login user (the active
// one for "") of the server with key, wherever it is stored; it reports
// whether there was one.
func (f *HostsFile) UpdateAccount(key, user string, fn func(*Host)) bool {
	a := f.Host(key).Account(user)
	if a == nil {
		return false
	}
	fn(a)
	return true
}

// ErrUnknownAccount is wrapped when a login names no stored account.
var ErrUnknownAccount = errors.New("no such account")

// Switch makes the account with login user the active one of the server
// with key.
func (f *HostsFile) Switch(key, user string) error {
	h := f.Host(key)
	a := h.Account(user)
	if a == nil {
		return fmt.Errorf("%w %q on %s (accounts: %s)", ErrUnknownAccount, user, DisplayHost(key), strings.Join(h.AccountNames(), ", "))
	}
	if a == h {
		return nil
	}
	f.SetAccount(key, a.credential())
	return nil
}

// RemoveAccount forgets the account with login user (the active one for
// "") of the server with key. When it was the active one, the first of
// the others (in login order) becomes active; when it was the last, the
// server is forgotten. It reports whether an account was removed.
func (f *HostsFile) RemoveAccount(key, user string) bool {
	h := f.Host(key)
	a := h.Account(user)
	if a == nil {
		return false
	}
	if a != h {
		for login, other := range h.Accounts {
			if other == a {
				delete(h.Accounts, login)
			}
		}
		if len(h.Accounts) == 0 {
			h.Accounts = nil
		}
		return true
	}
	names := slices.Sorted(maps.Keys(h.Accounts))
	if len(names) == 0 {
		return f.RemoveHost(key)
	}
	next := h.Accounts[names[0]]
	delete(h.Accounts, names[0])
	h.setCredential(next)
	if len(h.Accounts) == 0 {
		h.Accounts = nil
	}
	return true
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
		for login, a := range h.Accounts {
			if a == nil {
				delete(h.Accounts, login)
				continue
			}
			// An account is only a credential.
			a.Accounts, a.Insecure, a.CAFile = nil, false, ""
			if a.User == "" {
				a.User = login
			}
		}
		hosts[k] = h
	}
	f.Hosts = hosts
	return nil
}
