package authstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// MaxPasskeys bounds a user's passkeys, so the record stays small.
const MaxPasskeys = 20

// ErrTooManyPasskeys refuses a passkey beyond MaxPasskeys.
var ErrTooManyPasskeys = errors.New("too many passkeys")

// Passkey is one WebAuthn credential of a user. Credential is the
// verifier's own record (public key, sign count, flags) as JSON, kept
// opaque here so the store needs no WebAuthn library; it holds no
// secret.
type Passkey struct {
	// ID is the credential id, base64url without padding.
	ID         string          `json:"id"`
	Name       string          `json:"name"`
	Credential json.RawMessage `json:"credential"`
	CreatedAt  time.Time       `json:"created_at"`
	LastUsedAt time.Time       `json:"last_used_at,omitzero"`
}

// AddPasskey stores a new passkey of the user with login. An id the user
// has already is ErrExists.
func (s *Store) AddPasskey(login string, pk Passkey, actor Actor) (*User, error) {
	name, err := CheckTokenName(pk.Name)
	if err != nil {
		return nil, err
	}
	pk.Name, pk.CreatedAt = name, s.now().UTC()
	return s.UpdateUser(login, actor, "passkey added: "+name, func(u *User) error {
		if len(u.Passkeys) >= MaxPasskeys {
			return ErrTooManyPasskeys
		}
		for _, p := range u.Passkeys {
			if p.ID == pk.ID {
				return fmt.Errorf("passkey: %w", ErrExists)
			}
		}
		u.Passkeys = append(u.Passkeys, pk)
		return nil
	})
}

// RemovePasskey deletes the passkey id of the user with login; one the
// user does not have is ErrNotFound.
func (s *Store) RemovePasskey(login, id string, actor Actor) (*User, error) {
	return s.UpdateUser(login, actor, "passkey removed", func(u *User) error {
		for i, p := range u.Passkeys {
			if p.ID == id {
				u.Passkeys = append(u.Passkeys[:i:i], u.Passkeys[i+1:]...)
				return nil
			}
		}
		return fmt.Errorf("passkey: %w", ErrNotFound)
	})
}

// UsePasskey records a sign-in with passkey id of user userID: its
// verifier record after the ceremony (the new sign count) and the time.
func (s *Store) UsePasskey(userID, id string, credential json.RawMessage) error {
	u, err := s.User(userID)
	if err != nil {
		return err
	}
	_, err = s.UpdateUser(u.Login, UserActor(userID, ""), "passkey used", func(u *User) error {
		for i := range u.Passkeys {
			if u.Passkeys[i].ID == id {
				u.Passkeys[i].Credential, u.Passkeys[i].LastUsedAt = credential, s.now().UTC()
				return nil
			}
		}
		return fmt.Errorf("passkey: %w", ErrNotFound)
	})
	return err
}
