package authstore

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Login namespaces. Human accounts are indexed in logins/, agent accounts
// (open registration, Kind KindAgent) in agent_logins/, so that:
//
//   - "a human account exists" is one cursor step on logins/ however many
//     agents registered, and first-admin setup stays open until it is
//     true: registering an agent never ends setup;
//   - nothing that looks up human logins alone can be answered by an agent.
//
// A login still names exactly one account across both namespaces: the
// upstream sees the bare login (Gatehouse-User, {http.auth.user.id} is the
// id), logs and admin commands name accounts by it, and two accounts
// answering to "alice" would let an anonymous agent pass for the human.
// So an agent cannot take a login a human holds, nor a human one an agent
// holds (ErrExists either way, saying which kind holds it); what keeps
// open registration from squatting the names that matter most is the
// reserved list below, refused by RegisterAgent.

// ErrReservedLogin means open registration asked for a login kept for
// people and the server itself (ReservedLogin).
var ErrReservedLogin = errors.New("login is reserved")

// reservedLogins are refused to open registration: names an upstream, a
// log reader or a user would take for an administrator, the server or its
// staff. Operators may still give them to anyone (`caddy gatehouse user
// add admin`, first-admin setup).
var reservedLogins = []string{
	"admin", "administrator", "root", "superuser", "sysadmin", "system",
	"gatehouse", "setup", "support", "security", "operator", "owner",
	"staff", "moderator", "webmaster", "postmaster", "hostmaster", "abuse",
	"anonymous",
}

// ReservedLogin reports whether a (normalised) login is reserved: one of
// reservedLogins in any case, also with '.', '_' or '-' inside it or an
// @domain after it ("Root", "ad-min", "admin@example.com").
func ReservedLogin(login string) bool {
	core, _, _ := strings.Cut(strings.ToLower(login), "@")
	core = strings.Map(func(r rune) rune {
		if r == '.' || r == '_' || r == '-' {
			return -1
		}
		return r
	}, core)
	for _, r := range reservedLogins {
		if core == r {
			return true
		}
	}
	return false
}

// LoginError is a refused login; Problem says why without repeating the
// input, so it can be shown to whoever typed it.
type LoginError struct {
	Login   string
	Problem string
}

func (e *LoginError) Error() string { return fmt.Sprintf("login %q: %s", e.Login, e.Problem) }

// textProblem says why s is not plain text, or "" when it is: it must be
// valid UTF-8 (and hold no U+FFFD, which is what a JSON decoder makes of
// invalid bytes) and hold no control character (C0, C1, DEL), format
// character (bidi overrides such as U+202E, zero-width characters) or
// line or paragraph separator.
func textProblem(s string) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			return "is not valid UTF-8 (it holds U+FFFD, the mark of an invalid byte)"
		case unsafeRune(r):
			return fmt.Sprintf("holds the control or formatting character %U", r)
		}
	}
	return ""
}

// loginBucket is the namespace of accounts of the given kind.
func loginBucket(kind string) []byte {
	if kind == KindAgent {
		return bucketAgentLogins
	}
	return bucketLogins
}

// unsafeLoginID returns the id of the account with the (normalised) login
// inside tx, whatever its kind, or nil.
func unsafeLoginID(tx *Tx, login string) []byte {
	if id := tx.Bucket(bucketLogins).Get([]byte(login)); id != nil {
		return id
	}
	if b := tx.Bucket(bucketAgentLogins); b != nil { // nil: schema 1, read-only
		return b.Get([]byte(login))
	}
	return nil
}

// unsafeHumansExist reports inside tx whether any human account exists.
func unsafeHumansExist(tx *Tx) bool {
	k, _ := tx.Bucket(bucketLogins).Cursor().First()
	return k != nil
}

// HasHumans reports whether any human (non-agent) account exists: until
// one does, first-admin setup stays open.
func (s *Store) HasHumans() (bool, error) {
	found := false
	err := s.view("has_humans", func(tx *Tx) error {
		found = unsafeHumansExist(tx)
		return nil
	})
	return found, err
}

// unsafeCountLogins counts the accounts of both namespaces inside tx.
func unsafeCountLogins(tx *Tx) int {
	n := tx.Bucket(bucketLogins).Stats().KeyN
	if b := tx.Bucket(bucketAgentLogins); b != nil {
		n += b.Stats().KeyN
	}
	return n
}

// unsafeForEachLogin calls fn for every login of both namespaces in login
// order (a login is in at most one).
func unsafeForEachLogin(tx *Tx, fn func(login, id []byte) error) error {
	h := tx.Bucket(bucketLogins).Cursor()
	hk, hv := h.First()
	var a *Cursor
	var ak, av []byte
	if b := tx.Bucket(bucketAgentLogins); b != nil { // nil: schema 1, read-only
		a = b.Cursor()
		ak, av = a.First()
	}
	for hk != nil || ak != nil {
		var err error
		if ak == nil || hk != nil && bytes.Compare(hk, ak) <= 0 {
			err = fn(hk, hv)
			hk, hv = h.Next()
		} else {
			err = fn(ak, av)
			ak, av = a.Next()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// migrateAgentLogins (schema 1 -> 2) moves the logins of agent accounts
// from logins/ to their own agent_logins/ bucket.
func migrateAgentLogins(tx *Tx) error {
	agents, err := tx.CreateBucketIfNotExists(bucketAgentLogins)
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketAgentLogins, err)
	}
	logins, users := tx.Bucket(bucketLogins), tx.Bucket(bucketUsers)
	var move [][2][]byte
	err = logins.ForEach(func(login, id []byte) error {
		var u User
		if err := getJSON(users, id, &u); err != nil {
			return nil // a dangling entry stays for Check to report
		}
		if u.Kind == KindAgent {
			move = append(move, [2][]byte{bytes.Clone(login), bytes.Clone(id)})
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, m := range move {
		if err := agents.Put(m[0], m[1]); err != nil {
			return err
		}
		if err := logins.Delete(m[0]); err != nil {
			return err
		}
	}
	return nil
}
