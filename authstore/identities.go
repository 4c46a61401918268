package authstore

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// External identities: an account signed in through an identity provider
// (OpenID Connect, GitHub) is found by the pair (provider name, subject),
// the provider's stable id of the person. Never by email: an address can
// be reassigned, or claimed unverified, at a provider; a subject cannot.
// A local account gains an identity only when an operator links it
// (LinkIdentity); signing in never links an existing account silently.

// Audit actions of external sign-in.
const (
	ActionIdentityLinked   = "identity.linked"
	ActionIdentityUnlinked = "identity.unlinked"
	ActionExternalLogin    = "login.external"
)

// Identity is one link from a provider's subject to an account.
type Identity struct {
	Provider string    `json:"provider"`
	Subject  string    `json:"subject"`
	UserID   string    `json:"user_id"`
	LinkedAt time.Time `json:"linked_at"`
}

// ErrBadIdentity means a provider name or subject is unusable as a key.
var ErrBadIdentity = errors.New("invalid identity")

// identityKey is the key of (provider, subject) in identities/: provider
// names hold no '|' (checkIdentity), so the first '|' splits the pair.
func identityKey(provider, subject string) []byte {
	return []byte(provider + "|" + subject)
}

func checkIdentity(provider, subject string) error {
	switch {
	case provider == "" || strings.ContainsAny(provider, "|\x00") || len(provider) > 64:
		return fmt.Errorf("%w: provider name %q", ErrBadIdentity, provider)
	case subject == "" || len(subject) > 255 || textProblem(subject) != "":
		return fmt.Errorf("%w: subject must be 1 to 255 characters of plain text", ErrBadIdentity)
	}
	return nil
}

// migrateIdentities creates the buckets of schema version 3.
func migrateIdentities(tx *Tx) error {
	for _, name := range [][]byte{bucketIdentities, bucketUserIdentities} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return nil
}

// UserByIdentity returns the account linked to (provider, subject), or
// ErrNotFound. A disabled account is returned with ErrUserDisabled.
func (s *Store) UserByIdentity(provider, subject string) (*User, error) {
	if err := checkIdentity(provider, subject); err != nil {
		return nil, err
	}
	var id string
	err := s.view("user_by_identity", func(tx *Tx) error {
		var rec Identity
		if err := getJSON(tx.Bucket(bucketIdentities), identityKey(provider, subject), &rec); err != nil {
			return err
		}
		id = rec.UserID
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("identity %s: %w", provider, err)
	}
	u, err := s.User(id)
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return u, ErrUserDisabled
	}
	return u, nil
}

// CreateExternalUser creates an account for a first sign-in through
// provider and links it to subject, in one transaction. The login is
// n.Login if free, else n.Login-2, n.Login-3, …: a provider's username is
// a wish, not a claim on an existing account. A subject already linked
// is ErrExists (two first sign-ins racing: the caller looks it up again).
func (s *Store) CreateExternalUser(n NewUser, provider, subject string, actor Actor) (*User, error) {
	if err := checkIdentity(provider, subject); err != nil {
		return nil, err
	}
	if n.Kind == "" {
		n.Kind = KindHuman
	}
	u, err := s.newUserRecord(n)
	if err != nil {
		return nil, err
	}
	base := u.Login
	err = s.update("create_external_user", func(tx *Tx) error {
		key := identityKey(provider, subject)
		if tx.Bucket(bucketIdentities).Get(key) != nil {
			return fmt.Errorf("identity %s: %w", provider, ErrExists)
		}
		login, err := unsafeFreeLogin(tx, base)
		if err != nil {
			return err
		}
		u.Login = login
		if err := s.unsafeInsertUser(tx, u, actor); err != nil {
			return err
		}
		return s.unsafeLink(tx, Identity{Provider: provider, Subject: subject, UserID: u.ID, LinkedAt: s.now().UTC()}, actor)
	})
	if err != nil {
		return nil, fmt.Errorf("create user for %s: %w", provider, err)
	}
	return u, nil
}

// unsafeFreeLogin returns base, or base with the first free numeric
// suffix, that no account (of either kind) holds and that is not
// reserved; suffixes keep the result within 64 characters.
func unsafeFreeLogin(tx *Tx, base string) (string, error) {
	for i := 1; i <= 1000; i++ {
		cand := base
		if i > 1 {
			suffix := "-" + strconv.Itoa(i)
			cand = base[:min(len(base), 64-len(suffix))] + suffix
		}
		if unsafeLoginID(tx, cand) == nil && !ReservedLogin(cand) {
			return cand, nil
		}
	}
	return "", fmt.Errorf("no free login like %s: %w", base, ErrExists)
}

func (s *Store) unsafeLink(tx *Tx, rec Identity, actor Actor) error {
	if err := putJSON(tx.Bucket(bucketIdentities), identityKey(rec.Provider, rec.Subject), rec); err != nil {
		return err
	}
	if err := tx.Bucket(bucketUserIdentities).Put(indexKey(rec.UserID, string(identityKey(rec.Provider, rec.Subject))), nil); err != nil {
		return err
	}
	return s.unsafeAudit(tx, Event{Action: ActionIdentityLinked, Actor: actor, UserID: rec.UserID, Detail: rec.Provider + " " + rec.Subject})
}

// LinkIdentity links (provider, subject) to the account with login: the
// operator's explicit link of an existing account. A subject linked to
// another account is ErrExists; linking it again to the same account
// changes nothing.
func (s *Store) LinkIdentity(login, provider, subject string, actor Actor) (*Identity, error) {
	if err := checkIdentity(provider, subject); err != nil {
		return nil, err
	}
	l, err := NormalizeLogin(login)
	if err != nil {
		return nil, fmt.Errorf("user %q: %w", login, ErrNotFound)
	}
	var rec Identity
	err = s.update("link_identity", func(tx *Tx) error {
		id := unsafeLoginID(tx, l)
		if id == nil {
			return fmt.Errorf("user %s: %w", l, ErrNotFound)
		}
		var old Identity
		switch err := getJSON(tx.Bucket(bucketIdentities), identityKey(provider, subject), &old); {
		case err == nil && old.UserID == string(id):
			rec = old
			return nil
		case err == nil:
			return fmt.Errorf("identity %s %s is linked to another account: %w", provider, subject, ErrExists)
		case !errors.Is(err, ErrNotFound):
			return err
		}
		rec = Identity{Provider: provider, Subject: subject, UserID: string(id), LinkedAt: s.now().UTC()}
		return s.unsafeLink(tx, rec, actor)
	})
	if err != nil {
		return nil, fmt.Errorf("link %s: %w", l, err)
	}
	return &rec, nil
}

// UnlinkIdentity removes the link of (provider, subject); the account
// stays. An unknown link is ErrNotFound.
func (s *Store) UnlinkIdentity(provider, subject string, actor Actor) error {
	if err := checkIdentity(provider, subject); err != nil {
		return err
	}
	return s.update("unlink_identity", func(tx *Tx) error {
		key := identityKey(provider, subject)
		var rec Identity
		if err := getJSON(tx.Bucket(bucketIdentities), key, &rec); err != nil {
			return fmt.Errorf("identity %s %s: %w", provider, subject, err)
		}
		if err := tx.Bucket(bucketIdentities).Delete(key); err != nil {
			return err
		}
		if err := tx.Bucket(bucketUserIdentities).Delete(indexKey(rec.UserID, string(key))); err != nil {
			return err
		}
		return s.unsafeAudit(tx, Event{Action: ActionIdentityUnlinked, Actor: actor, UserID: rec.UserID, Detail: provider + " " + subject})
	})
}

// Identities lists the links of the account userID, or of every account
// for "".
func (s *Store) Identities(userID string) ([]Identity, error) {
	var out []Identity
	err := s.view("identities", func(tx *Tx) error {
		ids := tx.Bucket(bucketIdentities)
		if userID == "" {
			return ids.ForEach(func(_, v []byte) error {
				var rec Identity
				if err := decodeJSON(v, &rec); err != nil {
					return err
				}
				out = append(out, rec)
				return nil
			})
		}
		prefix := indexKey(userID, "")
		c := tx.Bucket(bucketUserIdentities).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			var rec Identity
			if err := getJSON(ids, k[len(prefix):], &rec); err != nil {
				return err
			}
			out = append(out, rec)
		}
		return nil
	})
	return out, err
}

// RecordExternalLogin notes a sign-in through provider in the audit
// trail; RecordExternalRefusal a refused one (userID "" when no account
// was found), with the reason and never a token or code.
func (s *Store) RecordExternalLogin(userID, provider, ip string) error {
	return s.update("record_external_login", func(tx *Tx) error {
		return s.unsafeAudit(tx, Event{Action: ActionExternalLogin, Actor: UserActor(userID, ip), UserID: userID, Detail: "provider " + provider})
	})
}

// RecordExternalRefusal notes a refused sign-in through provider.
func (s *Store) RecordExternalRefusal(userID, provider, reason, ip string) error {
	return s.update("record_login_failure", func(tx *Tx) error {
		return s.unsafeAudit(tx, Event{Action: ActionLoginFailed, Actor: UserActor(userID, ip), UserID: userID, Detail: "provider " + provider + ": " + reason})
	})
}
