package authstore

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Session kinds: a browser login (cookie, or its JWT as a Bearer token) or
// a CLI login holding a short access JWT and a rotating refresh token.
const (
	SessionBrowser = "browser"
	SessionCLI     = "cli"
)

// sessionRetention is how long an expired or revoked session stays listed
// before a later login of the same user deletes it.
const sessionRetention = 7 * 24 * time.Hour

// Session is a login's server-side record; its JWT carries only the id.
type Session struct {
	ID         string    `json:"id"`
	UserID     string    `json:"user_id"`
	Kind       string    `json:"kind"`
	CreatedAt  time.Time `json:"created_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	LastSeenAt time.Time `json:"last_seen_at,omitzero"`
	LastSeenIP string    `json:"last_seen_ip,omitempty"`
	// IP and UserAgent are the client's at login; UserAgent as
	// SanitizeUserAgent leaves it.
	IP        string    `json:"ip,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	// RevokedReason says why: "logout", "admin", "refresh token reuse"…
	RevokedReason string `json:"revoked_reason,omitempty"`
	// Refresh is the hex SHA-256 of a CLI session's current refresh token,
	// the head of its chain of rotated tokens.
	Refresh string `json:"refresh,omitempty"`
}

// Status is the session's state at time now: "active", "expired" or
// "revoked".
func (s *Session) Status(now time.Time) string {
	switch {
	case !s.RevokedAt.IsZero():
		return "revoked"
	case !now.Before(s.ExpiresAt):
		return "expired"
	}
	return "active"
}

// NewSession describes a login to record.
type NewSession struct {
	UserID    string
	Kind      string // SessionBrowser or SessionCLI
	TTL       time.Duration
	IP        string
	UserAgent string
}

// isSessionID tells session ids from token ids in shared code paths
// (last-used stamps).
func isSessionID(id string) bool { return strings.HasPrefix(id, "ses_") }

// CreateSession records a successful login and returns the new session,
// always with a fresh id. The login is audited in the same transaction,
// and the user's sessions that ended more than a week ago are deleted.
func (s *Store) CreateSession(n NewSession, actor Actor) (*Session, error) {
	var sess *Session
	err := s.update("create_session", func(tx *Tx) error {
		var err error
		sess, err = s.unsafeCreateSession(tx, n, actor)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create session for %s: %w", n.UserID, err)
	}
	return sess, nil
}

func (s *Store) unsafeCreateSession(tx *Tx, n NewSession, actor Actor) (*Session, error) {
	if n.Kind != SessionBrowser && n.Kind != SessionCLI {
		return nil, fmt.Errorf("session kind %q: want %s or %s", n.Kind, SessionBrowser, SessionCLI)
	}
	if n.TTL <= 0 {
		return nil, errors.New("session lifetime must be positive")
	}
	owner, err := unsafeUser(tx, n.UserID)
	if err != nil {
		return nil, err
	}
	if owner.Disabled {
		return nil, fmt.Errorf("user %s: %w", owner.Login, ErrUserDisabled)
	}
	id, err := randomID("ses_")
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	sess := &Session{
		ID: id, UserID: n.UserID, Kind: n.Kind, CreatedAt: now, ExpiresAt: now.Add(n.TTL),
		IP: n.IP, UserAgent: SanitizeUserAgent(n.UserAgent),
	}
	if err := s.unsafePruneSessions(tx, n.UserID, now); err != nil {
		return nil, err
	}
	if err := putJSON(tx.Bucket(bucketSessions), []byte(id), sess); err != nil {
		return nil, err
	}
	if err := tx.Bucket(bucketUserSessions).Put(indexKey(n.UserID, id), nil); err != nil {
		return nil, err
	}
	if err := s.unsafeAudit(tx, Event{Action: ActionLogin, Actor: actor, UserID: n.UserID, Detail: n.Kind + " session " + id}); err != nil {
		return nil, err
	}
	return sess, nil
}

// unsafePruneSessions deletes the user's sessions (and their refresh
// chains) that expired or were revoked more than sessionRetention ago, so
// the store does not grow with every login.
//
// In fleet mode the scan's reads are not compared at commit (an ended
// session stays ended, so deleting one read from a slightly old mirror is
// safe) and at most pruneBudget keys go per login, since etcd bounds a
// transaction's operations: the rest go with later logins.
func (s *Store) unsafePruneSessions(tx *Tx, userID string, now time.Time) error {
	budget := -1
	if tx.f != nil {
		budget = pruneBudget
		tx.f.blind = true
		defer func() { tx.f.blind = false }()
	}
	cutoff := now.Add(-sessionRetention)
	sessions, index := tx.Bucket(bucketSessions), tx.Bucket(bucketUserSessions)
	prefix := indexKey(userID, "")
	var stale [][]byte
	c := index.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && budget != 0; k, _ = c.Next() {
		var old Session
		if err := getJSON(sessions, k[len(prefix):], &old); err != nil {
			if errors.Is(err, ErrNotFound) {
				stale = append(stale, bytes.Clone(k))
				budget--
				continue
			}
			return err
		}
		ended := old.ExpiresAt
		if !old.RevokedAt.IsZero() && old.RevokedAt.Before(ended) {
			ended = old.RevokedAt
		}
		if ended.Before(cutoff) {
			chain := -1 // unlimited
			if budget >= 0 {
				chain = max(budget-2, 0) // room for the session and its index entry
			}
			n, gone, err := unsafeDeleteRefreshChain(tx, old.Refresh, chain)
			if err != nil {
				return err
			}
			if budget > 0 {
				budget -= n
			}
			if !gone {
				break
			}
			if err := sessions.Delete([]byte(old.ID)); err != nil {
				return err
			}
			stale = append(stale, bytes.Clone(k))
			if budget > 0 {
				budget = max(budget-2, 0)
			}
		}
	}
	for _, k := range stale {
		if err := index.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// pruneBudget is how many keys one fleet-mode login deletes at most while
// pruning ended sessions (etcd's default --max-txn-ops is 128).
const pruneBudget = 64

// Session returns the session with the given id, from cache when warm.
func (s *Store) Session(id string) (*Session, error) {
	sess, err := s.sessions.load(id, func() (*Session, error) {
		return readRecord[Session](s, "session", bucketSessions, []byte(id))
	})
	if err != nil {
		return nil, fmt.Errorf("session %s: %w", id, err)
	}
	return sess, nil
}

// checkSession returns the user of an active session, or why it is not.
func (s *Store) checkSession(sess *Session, now time.Time) (*User, error) {
	if !sess.RevokedAt.IsZero() {
		return nil, ErrRevoked
	}
	if !now.Before(sess.ExpiresAt) {
		return nil, ErrExpired
	}
	u, err := s.User(sess.UserID)
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return u, ErrUserDisabled
	}
	return u, nil
}

// forgetSession drops a changed session from the cache, after the write
// committed, and then bumps the session epoch, which retires every
// session snapshot held by verified JWTs (see jwtSession). The order
// matters: a snapshot taken under the old epoch may hold the stale record.
func (s *Store) forgetSession(id string) {
	s.sessions.invalidate(id)
	s.sess.epoch.Add(1)
}

// RevokeSession ends a session at once: the session cache forgets it
// before RevokeSession returns, so the next request with its JWT, cookie or
// refresh token is refused. Revoking a revoked session is not an error.
func (s *Store) RevokeSession(id string, actor Actor, reason string) (*Session, error) {
	var sess Session
	err := s.update("revoke_session", func(tx *Tx) error {
		if err := getJSON(tx.Bucket(bucketSessions), []byte(id), &sess); err != nil {
			return err
		}
		return s.unsafeRevokeSession(tx, &sess, actor, reason)
	})
	if err != nil {
		return nil, fmt.Errorf("revoke session %s: %w", id, err)
	}
	s.forgetSession(id)
	return &sess, nil
}

func (s *Store) unsafeRevokeSession(tx *Tx, sess *Session, actor Actor, reason string) error {
	if !sess.RevokedAt.IsZero() {
		return nil
	}
	sess.RevokedAt, sess.RevokedReason = s.now().UTC(), reason
	if err := putJSON(tx.Bucket(bucketSessions), []byte(sess.ID), sess); err != nil {
		return err
	}
	return s.unsafeAudit(tx, Event{Action: ActionSessionRevoked, Actor: actor, UserID: sess.UserID, Detail: sess.ID + ": " + reason})
}

// RevokeUserSessions ends every active session of the user ("log out
// everywhere") and reports how many it ended.
func (s *Store) RevokeUserSessions(userID string, actor Actor, reason string) (int, error) {
	return s.RevokeUserSessionsExcept(userID, "", actor, reason)
}

// RevokeUserSessionsExcept ends every active session of the user but
// keepID (the caller's own: "sign out everywhere else"); "" keeps none.
func (s *Store) RevokeUserSessionsExcept(userID, keepID string, actor Actor, reason string) (int, error) {
	var all []string
	for {
		var ended []string
		more := false
		err := s.update("revoke_user_sessions", func(tx *Tx) error {
			ended, more = ended[:0], false
			// In fleet mode the scan is blind and each revoked session is
			// read again, compared: a user with many ended sessions must
			// not exceed etcd's transaction bound, and a long list is
			// revoked in chunks.
			limit := -1
			if tx.f != nil {
				limit = revokeChunk
				tx.f.blind = true
				defer func() { tx.f.blind = false }()
			}
			sessions := tx.Bucket(bucketSessions)
			prefix := indexKey(userID, "")
			c := tx.Bucket(bucketUserSessions).Cursor()
			now := s.now()
			for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
				var sess Session
				if err := getJSON(sessions, k[len(prefix):], &sess); err != nil {
					if errors.Is(err, ErrNotFound) {
						continue
					}
					return err
				}
				if sess.Status(now) != "active" || (keepID != "" && sess.ID == keepID) {
					continue
				}
				if len(ended) == limit {
					more = true
					break
				}
				if tx.f != nil {
					tx.f.blind = false
					err := getJSON(sessions, k[len(prefix):], &sess)
					tx.f.blind = true
					if err != nil {
						return err
					}
				}
				if err := s.unsafeRevokeSession(tx, &sess, actor, reason); err != nil {
					return err
				}
				ended = append(ended, sess.ID)
			}
			return nil
		})
		if err != nil {
			return len(all), fmt.Errorf("revoke sessions of %s: %w", userID, err)
		}
		for _, id := range ended {
			s.forgetSession(id)
		}
		all = append(all, ended...)
		if !more {
			return len(all), nil
		}
	}
}

// revokeChunk is how many sessions one fleet-mode transaction of
// RevokeUserSessions revokes.
const revokeChunk = 40

// Sessions lists the sessions of userID (every session when userID is
// empty), ended ones included until they are pruned, oldest first.
func (s *Store) Sessions(userID string) ([]*Session, error) {
	var out []*Session
	err := s.view("sessions", func(tx *Tx) (err error) {
		out, err = unsafeListRecords[Session](tx, bucketSessions, bucketUserSessions, userID, func(id []byte) []byte { return id })
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	slices.SortFunc(out, func(a, b *Session) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// unsafeTouchSession records a session's last sighting (toucher flush).
func unsafeTouchSession(tx *Tx, id string, tc touch) error {
	b := tx.Bucket(bucketSessions)
	var sess Session
	if err := getJSON(b, []byte(id), &sess); err != nil {
		return nil // deleted meanwhile; last-seen is advisory
	}
	if !tc.at.After(sess.LastSeenAt) {
		return nil
	}
	sess.LastSeenAt, sess.LastSeenIP = tc.at, tc.ip
	return putJSON(b, []byte(id), &sess)
}
