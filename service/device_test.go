package service

import (
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/authstore"
)

// TestFindDeviceGrant: a pending code is found (and costs nothing), an
// unknown one counts against the session until it is locked out, a
// decided or expired one says so, and a decision is recorded once.
func TestFindDeviceGrant(t *testing.T) {
	s := newTestService(t, testGlobal())
	s.Devices = NewBackoff()
	u := mustUser(t, s, "alice", nil, nil)
	_, code, err := s.Store.CreateDeviceGrant(authstore.NewDeviceGrant{ClientID: "cli", TTL: 10 * time.Minute, Interval: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if g, err := s.FindDeviceGrant("sess1", "192.0.2.1", code); err != nil || g.ClientID != "cli" {
			t.Fatalf("a pending code: %v", err)
		}
	}
	for i := range deviceSessionFreeFailures {
		if _, err := s.FindDeviceGrant("sess1", "192.0.2.1", "BCDF-GHJK"); !errors.Is(err, authstore.ErrNotFound) {
			t.Fatalf("wrong code %d: %v", i, err)
		}
	}
	var throttled *DeviceThrottled
	if _, err := s.FindDeviceGrant("sess1", "192.0.2.1", code); !errors.As(err, &throttled) || throttled.Wait <= 0 || throttled.Error() == "" {
		t.Fatalf("after %d wrong codes: %v", deviceSessionFreeFailures, err)
	}
	if _, err := s.FindDeviceGrant("sess2", "198.51.100.1", code); err != nil {
		t.Fatalf("another session at another address: %v", err)
	}

	approval := &authstore.NewPAT{UserID: u.ID, Prefix: "qat_", Name: "cli", Scopes: []string{"papers:read"},
		ExpiresAt: testNow.Add(24 * time.Hour), CreatedVia: authstore.ViaDevice}
	if err := s.DecideDevice(code, "cli", u, approval, authstore.UserActor(u.ID, "")); err != nil {
		t.Fatal(err)
	}
	if err := s.DecideDevice(code, "cli", u, nil, authstore.UserActor(u.ID, "")); !errors.Is(err, authstore.ErrDeviceCodeUsed) {
		t.Errorf("deciding twice: %v", err)
	}
	if _, err := s.FindDeviceGrant("sess2", "198.51.100.1", code); !errors.Is(err, authstore.ErrDeviceCodeUsed) {
		t.Errorf("a decided code: %v", err)
	}

	_, denied, err := s.Store.CreateDeviceGrant(authstore.NewDeviceGrant{ClientID: "cli", TTL: 10 * time.Minute, Interval: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DecideDevice(denied, "cli", u, nil, authstore.UserActor(u.ID, "")); err != nil {
		t.Errorf("a denial: %v", err)
	}
	_, late, err := s.Store.CreateDeviceGrant(authstore.NewDeviceGrant{ClientID: "cli", TTL: time.Minute, Interval: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	s.Now = func() time.Time { return time.Now().Add(time.Hour) }
	if _, err := s.FindDeviceGrant("sess3", "203.0.113.1", late); !errors.Is(err, authstore.ErrExpired) {
		t.Errorf("an expired code: %v", err)
	}
}
