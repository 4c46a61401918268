package caddymodule

import (
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
)

// TestProvisionLeavesTheStoreClosed: what `caddy validate` does (Provision
// and Cleanup, never Start) works while another process holds the store's
// lock, and releases nothing it did not take.
func TestProvisionLeavesTheStoreClosed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	other, err := authstore.Open(path, authstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	a := testApp(t, config.Global{Store: path}) // would fail with ErrLocked after 3s if it opened the file
	if a.store != nil {
		t.Fatal("Provision opened the store")
	}
	if err := a.Cleanup(); err != nil {
		t.Fatal(err)
	}
	if _, ok := stores.References(path); ok {
		t.Error("the store is pooled after a validate-style Provision and Cleanup")
	}
	if err := a.openStore(); !errors.Is(err, errStoreReleased) {
		t.Errorf("openStore after Cleanup: %v, want errStoreReleased", err)
	}
}

// TestStoreOpenedOnceAndReleased: the first of Start and the requests
// opens the store, once; Cleanup lets go of it, and afterwards nothing
// takes it again.
func TestStoreOpenedOnceAndReleased(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	a := testApp(t, config.Global{Store: path})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := a.openStore(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	if refs, _ := stores.References(path); refs != 1 {
		t.Fatalf("%d references to the store, want 1", refs)
	}
	next := testApp(t, config.Global{Store: path}) // a reload: the new generation starts first
	if err := next.Start(); err != nil {
		t.Fatal(err)
	}
	if err := a.Cleanup(); err != nil {
		t.Fatal(err)
	}
	if err := a.Cleanup(); err != nil {
		t.Fatal(err)
	}
	if refs, _ := stores.References(path); refs != 1 {
		t.Fatalf("%d references after the old generation let go (twice), want 1", refs)
	}
	if _, err := next.store.CountUsers(); err != nil {
		t.Fatalf("the running generation's store: %v", err)
	}
	if err := next.Cleanup(); err != nil {
		t.Fatal(err)
	}
	if _, ok := stores.References(path); ok {
		t.Error("the store is still pooled after every generation let go")
	}
}

// TestBackoffsBelongToTheStore: two config generations over one store
// share its login and device-code counters (a reload does not reset a
// guesser's lock), while another store has counters of its own.
func TestBackoffsBelongToTheStore(t *testing.T) {
	dir := t.TempDir()
	first, second := testApp(t, config.Global{Store: filepath.Join(dir, "a.db")}), testApp(t, config.Global{Store: filepath.Join(dir, "a.db")})
	other := testApp(t, config.Global{Store: filepath.Join(dir, "b.db")})
	for _, a := range []*App{first, second, other} {
		if err := a.openStore(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.releaseStore() })
	}
	f, s2, o := first.svc, second.svc, other.svc
	if f.Logins != s2.Logins || f.Devices != s2.Devices || f.Offer != s2.Offer {
		t.Error("two generations over one store keep separate counters")
	}
	if f.Logins == o.Logins || f.Devices == o.Devices || f.Logins == f.Devices {
		t.Error("counters are shared beyond their store and kind")
	}
}
