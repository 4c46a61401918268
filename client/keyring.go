package client

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/zalando/go-keyring"
)

// Keyring keeps secrets in the system's keychain: a secret is found by a
// service and a user name. [SystemKeyring] is the real one; tests give a
// [Store] one of their own.
type Keyring interface {
	// Get returns the secret, or an error wrapping ErrKeyringNotFound.
	Get(service, user string) (string, error)
	// Set stores the secret, replacing any other.
	Set(service, user, secret string) error
	// Delete forgets the secret; a missing one is ErrKeyringNotFound.
	Delete(service, user string) error
}

// ErrKeyringNotFound is a secret the keychain does not hold.
var ErrKeyringNotFound = keyring.ErrNotFound

// SystemKeyring is the operating system's keychain through
// github.com/zalando/go-keyring: the Secret Service on Linux (GNOME
// Keyring, KWallet) over the session D-Bus, the Keychain on macOS and the
// Credential Manager on Windows.
type SystemKeyring struct{}

// Get implements Keyring.
func (SystemKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }

// Set implements Keyring.
func (SystemKeyring) Set(service, user, secret string) error {
	return keyring.Set(service, user, secret)
}

// Delete implements Keyring.
func (SystemKeyring) Delete(service, user string) error { return keyring.Delete(service, user) }

// keyringService is the keychain's service name of a server's secrets:
// `gatehouse:https://example.com`.
func keyringService(key string) string { return DefaultCLIName + ":" + key }

// secrets are what an account keeps in the keychain, as one JSON item.
type secrets struct {
	Token        string `json:"token,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
}

func (s secrets) encode() string {
	b, _ := json.Marshal(s) // two strings: cannot fail
	return string(b)
}

func decodeSecrets(v string) (secrets, error) {
	var s secrets
	if err := json.Unmarshal([]byte(v), &s); err != nil {
		return secrets{}, errors.New("the keychain item is not one gatehouse wrote")
	}
	return s, nil
}

// readSecrets fills in the secrets of every account of f kept in the
// keychain. An account whose secrets cannot be read keeps empty ones and
// the reason ([Host.SecretError]), so that the other accounts stay usable.
func readSecrets(kr Keyring, f *HostsFile) {
	forEachAccount(f, func(key string, a *Host) {
		if a.Storage != StorageKeyring {
			return
		}
		if kr == nil {
			a.secretErr = errors.New("no keychain is available to this process")
			return
		}
		v, err := kr.Get(keyringService(key), accountKey(a.User))
		if err == nil {
			var sec secrets
			if sec, err = decodeSecrets(v); err == nil {
				a.Token, a.RefreshToken = sec.Token, sec.RefreshToken
				return
			}
		}
		if errors.Is(err, ErrKeyringNotFound) {
			err = errors.New("the keychain holds no secret for it")
		}
		a.secretErr = fmt.Errorf("keychain: %w", err)
	})
}

// forEachAccount calls fn for every account of every server of f.
func forEachAccount(f *HostsFile, fn func(key string, a *Host)) {
	for _, key := range f.SortedHosts() {
		h := f.Hosts[key]
		if h.hasActive() {
			fn(key, h)
		}
		for _, a := range h.Accounts {
			fn(key, a)
		}
	}
}

// accountRef names an account across servers.
type accountRef struct{ key, user string }

// keyringItems lists the accounts of f whose secrets are in the keychain.
func keyringItems(f *HostsFile) map[accountRef]secrets {
	out := map[accountRef]secrets{}
	forEachAccount(f, func(key string, a *Host) {
		if a.Storage == StorageKeyring && a.secretErr == nil {
			out[accountRef{key, accountKey(a.User)}] = secrets{a.Token, a.RefreshToken}
		}
	})
	return out
}
