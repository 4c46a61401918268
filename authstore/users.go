package authstore

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// User kinds.
const (
	KindHuman = "user"
	KindAgent = "agent"
)

// User is an account. Scopes nil means every scope the deployment declares;
// an empty list, none. The field is never omitted when stored: an omitted
// empty list would read back as nil, every scope.
type User struct {
	ID       string   `json:"id"`
	Login    string   `json:"login"`
	Kind     string   `json:"kind"`
	Tier     string   `json:"tier"`
	Scopes   []string `json:"scopes"`
	Disabled bool     `json:"disabled,omitempty"`
	// Admin is the administrator role: the console is theirs. Stores
	// written before the role existed read as false, so no migration.
	Admin     bool      `json:"admin,omitempty"`
	CreatedAt time.Time `json:"created_at"`

	// PasswordHash is a PHC-format argon2id or bcrypt hash; empty means the
	// user cannot log in with a password.
	PasswordHash string `json:"password_hash,omitempty"`
	// TOTPSecret is the base32 TOTP seed; empty means no second factor.
	TOTPSecret string `json:"totp_secret,omitempty"`
	// TOTPPending is a seed being enrolled from the security page: it
	// becomes TOTPSecret once the user types a code it generates.
	TOTPPending string `json:"totp_pending,omitempty"`
	// PasswordLink is a one-time link to set the password (a new
	// account made in the console, or a reset); only its hash is kept.
	PasswordLink *PasswordLink `json:"password_link,omitempty"`
	// Passkeys are the user's WebAuthn credentials (passkeys.go).
	Passkeys []Passkey `json:"passkeys,omitempty"`
	// RecoveryCodes are the hex SHA-256 of the unused recovery codes;
	// each code signs in once in place of a TOTP code.
	RecoveryCodes []string `json:"recovery_codes,omitempty"`
	// Memberships maps "type:name" (e.g. "project:atlas") to a role.
	Memberships map[string]string `json:"memberships,omitempty"`
}

// HasScope reports whether the user holds scope s.
func (u *User) HasScope(s string) bool {
	return u.Scopes == nil || slices.Contains(u.Scopes, s)
}

// NewUser describes an account to create.
type NewUser struct {
	Login  string
	Kind   string // KindHuman when empty
	Tier   string
	Scopes []string // nil: every scope
	Admin  bool     // the administrator role
}

// NormalizeLogin lower-cases and checks a login: 1 to 64 of a-z 0-9 . _ - @,
// around which spaces are trimmed. A login that is not valid UTF-8 or holds
// a control or formatting character anywhere (a trailing newline, U+202E)
// is refused, not trimmed, so that nothing but the login as shown is ever
// accepted. Errors are *LoginError.
func NormalizeLogin(login string) (string, error) {
	if p := textProblem(login); p != "" {
		return "", &LoginError{Login: login, Problem: p}
	}
	l := strings.ToLower(strings.Trim(login, " "))
	if l == "" || len(l) > 64 {
		return "", &LoginError{Login: login, Problem: "must be 1 to 64 characters"}
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == '@') {
			return "", &LoginError{Login: login, Problem: "only letters, digits and . _ - @ are allowed"}
		}
	}
	return l, nil
}

// CreateUser adds an account; a taken login is ErrExists.
func (s *Store) CreateUser(n NewUser, actor Actor) (*User, error) {
	u, err := s.newUserRecord(n)
	if err != nil {
		return nil, err
	}
	err = s.update("create_user", func(tx *Tx) error {
		return s.unsafeInsertUser(tx, u, actor)
	})
	if err != nil {
		return nil, fmt.Errorf("create user %s: %w", u.Login, err)
	}
	return u, nil
}

// newUserRecord checks n and builds the record of a new account, with a
// fresh id, without storing it.
func (s *Store) newUserRecord(n NewUser) (*User, error) {
	login, err := NormalizeLogin(n.Login)
	if err != nil {
		return nil, err
	}
	id, err := randomID("usr_")
	if err != nil {
		return nil, err
	}
	u := &User{
		ID: id, Login: login, Kind: n.Kind, Tier: n.Tier,
		Scopes: n.Scopes, Admin: n.Admin, CreatedAt: s.now().UTC(),
	}
	if u.Kind == "" {
		u.Kind = KindHuman
	}
	return u, nil
}

// unsafeInsertUser stores a new account and its login in its kind's
// namespace inside tx; a login taken in either namespace is ErrExists
// (logins.go).
func (s *Store) unsafeInsertUser(tx *Tx, u *User, actor Actor) error {
	if tx.Bucket(bucketLogins).Get([]byte(u.Login)) != nil {
		return fmt.Errorf("user %s: %w", u.Login, ErrExists)
	}
	if tx.Bucket(bucketAgentLogins).Get([]byte(u.Login)) != nil {
		return fmt.Errorf("user %s: %w (an agent account holds it)", u.Login, ErrExists)
	}
	if err := tx.Bucket(loginBucket(u.Kind)).Put([]byte(u.Login), []byte(u.ID)); err != nil {
		return err
	}
	if err := putJSON(tx.Bucket(bucketUsers), []byte(u.ID), u); err != nil {
		return err
	}
	return s.unsafeAudit(tx, Event{Action: ActionUserCreated, Actor: actor, UserID: u.ID, Detail: u.Login})
}

// User returns the account with the given id, from cache when warm.
func (s *Store) User(id string) (*User, error) {
	u, err := s.users.load(id, func() (*User, error) {
		return readRecord[User](s, "user", bucketUsers, []byte(id))
	})
	if err != nil {
		return nil, fmt.Errorf("user %s: %w", id, err)
	}
	return u, nil
}

// UserByLogin returns the account with the given login.
func (s *Store) UserByLogin(login string) (*User, error) {
	l, err := NormalizeLogin(login)
	if err != nil {
		return nil, fmt.Errorf("user %q: %w", login, ErrNotFound)
	}
	var id string
	err = s.view("user_by_login", func(tx *Tx) error {
		v := unsafeLoginID(tx, l)
		if v == nil {
			return ErrNotFound
		}
		id = string(v)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("user %s: %w", l, err)
	}
	return s.User(id)
}

// Users lists every account, humans and agents, ordered by login.
func (s *Store) Users() ([]*User, error) {
	var out []*User
	err := s.view("users", func(tx *Tx) error {
		users := tx.Bucket(bucketUsers)
		return unsafeForEachLogin(tx, func(_, id []byte) error {
			u := new(User)
			if err := getJSON(users, id, u); err != nil {
				return fmt.Errorf("user %s: %w", id, err)
			}
			out = append(out, u)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// CountUsers reports how many accounts exist, agents included (HasHumans
// asks whether a person has one).
func (s *Store) CountUsers() (int, error) {
	n := 0
	err := s.view("count_users", func(tx *Tx) error {
		n = unsafeCountLogins(tx)
		return nil
	})
	return n, err
}

// UpdateUser applies change to the account with the given login in one
// transaction, records it in the audit trail as detail, and invalidates
// the cached copy before returning, so the next request sees the change.
// change may return an error to abort without writing.
func (s *Store) UpdateUser(login string, actor Actor, detail string, change func(*User) error) (*User, error) {
	return s.updateUser(login, ActionUserUpdated, actor, func(u *User) (string, error) {
		return detail, change(u)
	})
}

// updateUser is UpdateUser with the audit action and a change that
// describes itself once it has seen the record (memberships name the role
// they replace).
func (s *Store) updateUser(login, action string, actor Actor, change func(*User) (string, error)) (*User, error) {
	l, err := NormalizeLogin(login)
	if err != nil {
		return nil, fmt.Errorf("user %q: %w", login, ErrNotFound)
	}
	var u User
	err = s.update("update_user", func(tx *Tx) error {
		id := unsafeLoginID(tx, l)
		if id == nil {
			return ErrNotFound
		}
		if err := getJSON(tx.Bucket(bucketUsers), id, &u); err != nil {
			return err
		}
		detail, err := change(&u)
		if err != nil {
			return err
		}
		if err := putJSON(tx.Bucket(bucketUsers), id, &u); err != nil {
			return err
		}
		return s.unsafeAudit(tx, Event{Action: action, Actor: actor, UserID: u.ID, Detail: detail})
	})
	if err != nil {
		return nil, fmt.Errorf("update user %s: %w", l, err)
	}
	s.users.invalidate(u.ID)
	return &u, nil
}

// unsafeUser reads the owner of a credential inside tx, for checks that must
// be consistent with the credential read.
func unsafeUser(tx *Tx, id string) (*User, error) {
	var u User
	if err := getJSON(tx.Bucket(bucketUsers), []byte(id), &u); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("user %s: %w", id, ErrNotFound)
		}
		return nil, err
	}
	return &u, nil
}
