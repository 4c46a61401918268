package authstore

import (
	"errors"
	"fmt"
	"testing"
)

// TestPasskeyRecords: add, a duplicate id, a bad name, the limit,
// use, remove, an unknown id, and the second-factor reset.
func TestPasskeyRecords(t *testing.T) {
	c := newSessClock()
	s := openSessStore(t, c)
	u := sessUser(t, s, "alice")
	if _, err := s.AddPasskey("alice", Passkey{ID: "k1", Name: "laptop", Credential: []byte(`{}`)}, AdminActor); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddPasskey("alice", Passkey{ID: "k1", Name: "again", Credential: []byte(`{}`)}, AdminActor); !errors.Is(err, ErrExists) {
		t.Errorf("duplicate id: %v", err)
	}
	if _, err := s.AddPasskey("alice", Passkey{ID: "k2", Name: "bad\u202ename", Credential: []byte(`{}`)}, AdminActor); err == nil {
		t.Error("a name with a bidi override")
	}
	for i := 2; i <= MaxPasskeys; i++ {
		if _, err := s.AddPasskey("alice", Passkey{ID: fmt.Sprint("k", i), Name: "n", Credential: []byte(`{}`)}, AdminActor); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AddPasskey("alice", Passkey{ID: "one-too-many", Name: "n", Credential: []byte(`{}`)}, AdminActor); !errors.Is(err, ErrTooManyPasskeys) {
		t.Errorf("beyond the limit: %v", err)
	}
	if err := s.UsePasskey(u.ID, "k1", []byte(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	got, _ := s.User(u.ID)
	if got.Passkeys[0].LastUsedAt.IsZero() || string(got.Passkeys[0].Credential) != `{"n":1}` {
		t.Errorf("after use: %+v", got.Passkeys[0])
	}
	if _, err := s.RemovePasskey("alice", "nope", AdminActor); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
	if _, err := s.RemovePasskey("alice", "k1", AdminActor); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.User(u.ID); len(got.Passkeys) != MaxPasskeys-1 {
		t.Errorf("%d passkeys after removal", len(got.Passkeys))
	}
	if _, err := s.ResetSecondFactor("alice", AdminActor); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.User(u.ID); got.Passkeys != nil {
		t.Errorf("reset left %d passkeys", len(got.Passkeys))
	}
}
