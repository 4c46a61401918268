package client

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// memKeyring is a keychain in memory; refuse makes Set fail.
type memKeyring struct {
	mu     sync.Mutex
	items  map[string]string
	refuse bool
}

func newMemKeyring() *memKeyring { return &memKeyring{items: map[string]string{}} }

func (k *memKeyring) Get(service, user string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.items[service+"|"+user]
	if !ok {
		return "", ErrKeyringNotFound
	}
	return v, nil
}

func (k *memKeyring) Set(service, user, secret string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.refuse {
		return errors.New("locked collection")
	}
	k.items[service+"|"+user] = secret
	return nil
}

func (k *memKeyring) Delete(service, user string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.items[service+"|"+user]; !ok {
		return ErrKeyringNotFound
	}
	delete(k.items, service+"|"+user)
	return nil
}

func (k *memKeyring) len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.items)
}

// TestKeyringStorage: with a keychain, secrets go there and hosts.yml
// keeps only metadata; reading gives them back; an old file with its
// token inside moves it to the keychain on the next write; an account
// stored with StorageFile stays in the file; a keychain that refuses
// leaves the secret in the file with a note; removing an account removes
// its item; and an unreadable item leaves the others usable.
func TestKeyringStorage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "gatehouse", HostsFileName)
	kr := newMemKeyring()
	s := NewKeyringStore(path, kr)
	const key, key2 = "https://a.example", "https://b.example"

	// An old file: the token in it, no storage field.
	legacy := NewStore(path)
	if err := legacy.Update(ctx, func(f *HostsFile) error {
		f.SetHost(key, &Host{Token: "gth_legacysecret", User: "alice", AddedAt: time.Now().UTC()})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if !strings.Contains(string(raw), "gth_legacysecret") {
		t.Fatal("the file store did not keep the token in the file")
	}
	// That file store wrote storage: file: rewrite it as an old version
	// would have, without the field.
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(raw), "storage: file\n", "")), 0o600); err != nil {
		t.Fatal(err)
	}

	// The next write (another account) migrates alice and stores bob.
	if err := s.Update(ctx, func(f *HostsFile) error {
		f.SetAccount(key, &Host{Kind: KindSession, Token: "eyJaccess", RefreshToken: "ghr_refresh", User: "bob"})
		f.SetAccount(key2, &Host{Token: "gth_plainfile", User: "carol", Storage: StorageFile})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	raw, _ = os.ReadFile(path)
	for _, secret := range []string{"gth_legacysecret", "eyJaccess", "ghr_refresh"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("hosts.yml holds %s:\n%s", secret, raw)
		}
	}
	if !strings.Contains(string(raw), "gth_plainfile") {
		t.Errorf("the account stored with StorageFile left the file:\n%s", raw)
	}
	if kr.len() != 2 {
		t.Errorf("%d keychain items, want 2", kr.len())
	}
	f, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	h := f.Host(key)
	if h.User != "bob" || h.Token != "eyJaccess" || h.RefreshToken != "ghr_refresh" || h.Storage != StorageKeyring {
		t.Errorf("bob read back as %+v", h)
	}
	if a := h.Account("alice"); a == nil || a.Token != "gth_legacysecret" || a.Storage != StorageKeyring {
		t.Errorf("alice read back as %+v", a)
	}
	// Without the keychain the file is still readable; the secrets are
	// missing, with the reason.
	f, err = NewStore(path).Load()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.Resolve(key, ""); err == nil || !strings.Contains(err.Error(), "keychain") {
		t.Errorf("resolving without the keychain: %v", err)
	}
	if _, h, err := f.Resolve(key2, ""); err != nil || h.Token != "gth_plainfile" {
		t.Errorf("the file account without the keychain: %v", err)
	}

	// A keychain that refuses: the file takes the secret, with a note.
	kr.refuse = true
	var written *HostsFile
	if err := s.Update(ctx, func(f *HostsFile) error {
		f.SetAccount(key2, &Host{Token: "gth_refusedsecret", User: "dave"})
		written = f
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	kr.refuse = false
	if dave := written.Host(key2); dave.Storage != StorageFile || dave.StorageNote() == nil {
		t.Errorf("refused keychain: storage %q, note %v", dave.Storage, dave.StorageNote())
	}

	// Logging bob out removes his item.
	if err := s.Update(ctx, func(f *HostsFile) error { f.RemoveAccount(key, "bob"); return nil }); err != nil {
		t.Fatal(err)
	}
	if kr.len() != 1 {
		t.Errorf("%d keychain items after removing bob, want 1", kr.len())
	}
	f, _ = s.Load()
	if h := f.Host(key); h.User != "alice" || h.Token != "gth_legacysecret" {
		t.Errorf("after bob's removal the active account is %v", h)
	}
}

// TestAccounts: logging in as another user adds an account and makes it
// active; the same user replaces the account; switch and remove move the
// active one; settings of the server stay.
func TestAccounts(t *testing.T) {
	t.Parallel()
	const key = "https://a.example"
	f := &HostsFile{}
	f.SetAccount(key, &Host{Token: "gth_a1", User: "alice"})
	f.Host(key).Insecure = true
	f.SetAccount(key, &Host{Token: "gth_b1", User: "bob"})
	f.SetAccount(key, &Host{Token: "gth_a2", User: "alice"})
	h := f.Host(key)
	if h.User != "alice" || h.Token != "gth_a2" || !h.Insecure || len(h.Accounts) != 1 || h.Accounts["bob"].Token != "gth_b1" {
		t.Fatalf("after three logins: %+v %v", h, h.Accounts)
	}
	if got := strings.Join(h.AccountNames(), ","); got != "alice,bob" {
		t.Errorf("names %s", got)
	}
	if err := f.Switch(key, "bob"); err != nil || f.Host(key).Token != "gth_b1" || f.Host(key).Account("alice").Token != "gth_a2" {
		t.Errorf("switch to bob: %v", err)
	}
	if err := f.Switch(key, "carol"); !errors.Is(err, ErrUnknownAccount) {
		t.Errorf("switch to an unknown user: %v", err)
	}
	if _, a, err := f.ResolveAccount(key, "alice", ""); err != nil || a.Token != "gth_a2" {
		t.Errorf("resolve alice: %v", err)
	}
	if !f.RemoveAccount(key, "bob") || f.Host(key).User != "alice" || !f.Host(key).Insecure {
		t.Errorf("removing the active bob: %+v", f.Host(key))
	}
	if !f.RemoveAccount(key, "") || f.Host(key) != nil {
		t.Errorf("removing the last account leaves %+v", f.Host(key))
	}
}
