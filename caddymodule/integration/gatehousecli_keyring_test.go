package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/gatehouse/gatehouse/client"
	"github.com/gatehouse/gatehouse/internal/clock"
)

// secretService returns the session bus of a running Secret Service
// (gnome-keyring-daemon inside dbus-run-session: see .ci/run), after
// checking that it stores and returns a secret. Without one the test is
// skipped and counted, unless GATEHOUSE_REQUIRE_KEYRING=1 (CI sets it).
func secretService(t *testing.T) string {
	t.Helper()
	bus := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	why := "no session bus (DBUS_SESSION_BUS_ADDRESS is empty)"
	if bus != "" {
		const service, user = "gatehouse-integration-probe", "probe"
		err := keyring.Set(service, user, "probe")
		if err == nil {
			var v string
			v, err = keyring.Get(service, user)
			_ = keyring.Delete(service, user)
			if err == nil && v != "probe" {
				err = fmt.Errorf("read back %q", v)
			}
		}
		if err == nil {
			return bus
		}
		why = fmt.Sprintf("the Secret Service on the session bus does not answer: %v", err)
	}
	if os.Getenv("GATEHOUSE_REQUIRE_KEYRING") == "1" {
		t.Fatalf("%s, and GATEHOUSE_REQUIRE_KEYRING=1", why)
	}
	keyringSkips.Add(1)
	t.Skipf("%s; run the tests inside dbus-run-session with gnome-keyring-daemon (see .ci/run)", why)
	return ""
}

// keyringSkips counts the keychain tests skipped for want of a Secret
// Service; TestMain reports it at the end.
var keyringSkips atomic.Int32

func reportKeyringSkips() {
	if n := keyringSkips.Load(); n > 0 {
		line := fmt.Sprintf("SKIPPED %d keychain test(s): no Secret Service; run inside dbus-run-session with gnome-keyring-daemon (see .ci/run)\n", n)
		fmt.Print(line)
		if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
			fmt.Fprint(tty, "gatehouse integration: "+line)
			tty.Close()
		}
	}
}

// TestCLIKeychain: under a real Secret Service, a login keeps its secrets
// in the keychain and hosts.yml only the metadata; a refresh updates the
// keychain's item; --insecure-storage keeps another account in the file;
// a hosts.yml written before the keychain (a token in the file) moves its
// token to the keychain on the next write; status says where each lives;
// logout removes the item.
func TestCLIKeychain(t *testing.T) {
	bus := secretService(t)
	g := newSessionCLIGateway(t, "")
	h := newCLIHome(t)
	h.bus = bus
	key := h.key()
	service := client.DefaultCLIName + ":" + key

	// An old hosts.yml: carol's PAT in the file, no storage field.
	g.addUser("carol")
	pat := g.mint("carol", 30, "wiki:read")
	if err := os.MkdirAll(filepath.Dir(h.hostsPath()), 0o700); err != nil {
		t.Fatal(err)
	}
	legacy := fmt.Sprintf("version: 1\nhosts:\n  %s:\n    token: %s\n    user: carol\n    added_at: %s\n", key, pat, time.Now().UTC().Format(time.RFC3339))
	if err := os.WriteFile(h.hostsPath(), []byte(legacy), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, u := range []string{"alice", "bob", "carol"} {
			_ = keyring.Delete(service, u)
		}
	})

	res := h.passwordLogin("alice")
	if !strings.Contains(res.stdout, "stored:  system keychain") {
		t.Errorf("login:\n%v", res)
	}
	h.passwordLogin("bob", "--insecure-storage")
	raw, err := os.ReadFile(h.hostsPath())
	if err != nil {
		t.Fatal(err)
	}
	hf := h.hostsFile() // without the keychain: metadata only
	alice := hf.Host(key).Account("alice")
	if alice == nil || alice.Storage != client.StorageKeyring || strings.Contains(string(raw), pat) {
		t.Fatalf("hosts.yml after the logins:\n%s", raw)
	}
	if strings.Count(string(raw), "refresh_token:") != 1 {
		t.Errorf("want only bob's refresh token in hosts.yml:\n%s", raw)
	}
	item, err := keyring.Get(service, "alice")
	if err != nil || !strings.Contains(item, `"refresh_token":"`) {
		t.Fatalf("alice's keychain item: %v", err)
	}
	if item, err := keyring.Get(service, "carol"); err != nil || !strings.Contains(item, pat) {
		t.Errorf("carol's migrated PAT is not in the keychain: %v", err)
	}

	// A call as alice that refreshes writes the new tokens to the keychain.
	before := item
	t.Cleanup(clock.Stop(time.Now()))
	clock.Advance(2 * time.Minute)
	h.mustRun(nil, "api", "-u", "alice", "/api/whoami")
	if after, err := keyring.Get(service, "alice"); err != nil || after == before {
		t.Errorf("the refresh did not reach the keychain: %v", err)
	}
	res = h.mustRun(nil, "api", "-u", "carol", "/api/whoami")
	if !strings.Contains(res.stdout, `"login":"carol"`) {
		t.Errorf("the migrated PAT does not work:\n%v", res)
	}
	res = h.mustRun(nil, "auth", "status")
	if !strings.Contains(res.stdout, "[system keychain]") || !strings.Contains(res.stdout, "[hosts.yml]") {
		t.Errorf("status:\n%v", res)
	}
	h.mustRun(nil, "auth", "logout", "-u", "alice")
	if _, err := keyring.Get(service, "alice"); err == nil {
		t.Error("logout left alice's keychain item")
	}
	h.assertNeverPrinted(pat)
}

// TestCLIKeychainFallback: a session bus without a Secret Service makes
// the login keep its secret in hosts.yml, with a warning saying why.
func TestCLIKeychainFallback(t *testing.T) {
	newSessionCLIGateway(t, "")
	h := newCLIHome(t)
	h.bus = "unix:path=" + filepath.Join(t.TempDir(), "no-bus-here")
	res := h.passwordLogin("alice")
	if !strings.Contains(res.stdout, "stored:  hosts.yml") || !strings.Contains(res.stderr, "not the keychain") {
		t.Errorf("login without a Secret Service:\n%v", res)
	}
	if e := h.hostsFile().Host(h.key()); e.Storage != client.StorageFile || e.RefreshToken == "" {
		t.Errorf("stored storage %q", e.Storage)
	}
	h.mustRun(nil, "api", "/api/whoami")
}
