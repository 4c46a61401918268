package authstore

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// RefreshPrefix starts every CLI refresh token. It has the PAT layout
// (random part plus checksum) so typos are caught and secret scanners can
// recognise a leaked one, but a refresh token is never a Bearer credential.
const RefreshPrefix = "ghr_"

// DefaultRefreshGrace is how long after a rotation the old refresh token
// still yields the same successor: two processes that refresh one token at
// once both succeed instead of tripping reuse detection.
const DefaultRefreshGrace = 30 * time.Second

// ErrRefreshReuse is a refresh token presented again after its grace
// window: a sign that it was copied, so the whole family (the CLI session)
// has been revoked.
var ErrRefreshReuse = errors.New("refresh token reused")

// successorDomain separates the key that seals a successor from every other
// use of the old token's hash (the record key is a plain SHA-256 of it).
const successorDomain = "gatehouse refresh successor v1\x00"

// RefreshToken is a refresh token's record; the token itself is never
// stored. Records form a chain per CLI session, newest at Session.Refresh.
type RefreshToken struct {
	SessionID string    `json:"session_id"`
	UserID    string    `json:"user_id"`
	Seq       int       `json:"seq"`
	CreatedAt time.Time `json:"created_at"`
	// UsedAt is when the token was rotated; zero while it is current.
	UsedAt time.Time `json:"used_at,omitzero"`
	// Prev is the hex SHA-256 of the token this one replaced.
	Prev string `json:"prev,omitempty"`
	// Successor is the plaintext of the token that replaced this one,
	// sealed with AES-256-GCM under a key derived from this token, which
	// the store never holds. Only a caller presenting this token can open
	// it, and only inside the grace window. Once the window is over the
	// store's housekeeping wipes it, within a minute (see
	// wipeDueSuccessors), so no copy of a live refresh token outlasts the
	// window, even for a session that never refreshes again.
	Successor []byte `json:"successor,omitempty"`
	// GraceUntil is the end of the grace window (UsedAt + grace), after
	// which Successor is wiped.
	GraceUntil time.Time `json:"grace_until,omitzero"`
}

// Rotation is the outcome of a refresh: the session, its user, the new
// refresh token and when it was minted (the access token is dated from
// then, so callers inside the grace window get identical answers).
type Rotation struct {
	Session      *Session
	User         *User
	RefreshToken string
	RotatedAt    time.Time
}

// CreateCLISession records a CLI login: a session of kind cli living n.TTL
// and its first refresh token, returned in plaintext once.
func (s *Store) CreateCLISession(n NewSession, actor Actor) (*Session, string, error) {
	n.Kind = SessionCLI
	tok, err := NewToken(RefreshPrefix)
	if err != nil {
		return nil, "", err
	}
	var sess *Session
	err = s.update("create_cli_session", func(tx *Tx) error {
		var err error
		if sess, err = s.unsafeCreateSession(tx, n, actor); err != nil {
			return err
		}
		return s.unsafeAddRefresh(tx, sess, tok, "", 1)
	})
	if err != nil {
		return nil, "", fmt.Errorf("create CLI session for %s: %w", n.UserID, err)
	}
	return sess, tok, nil
}

// unsafeAddRefresh stores a new head of sess's refresh chain.
func (s *Store) unsafeAddRefresh(tx *Tx, sess *Session, tok, prev string, seq int) error {
	h := HashToken(tok)
	rec := &RefreshToken{SessionID: sess.ID, UserID: sess.UserID, Seq: seq, CreatedAt: s.now().UTC(), Prev: prev}
	if err := putJSON(tx.Bucket(bucketRefresh), h[:], rec); err != nil {
		return err
	}
	sess.Refresh = hex.EncodeToString(h[:])
	return putJSON(tx.Bucket(bucketSessions), []byte(sess.ID), sess)
}

// RotateRefresh exchanges a refresh token for its successor. The first
// use mints the successor and marks the token used; a second use within
// grace returns the same successor; a use after that revokes the session
// (ErrRefreshReuse), since either the client or a thief holds a copy it
// should not. A revoked or expired session, a disabled user or an unknown
// token are ErrRevoked, ErrExpired, ErrUserDisabled and ErrUnknownToken.
func (s *Store) RotateRefresh(tok string, grace time.Duration, actor Actor) (*Rotation, error) {
	if err := CheckToken(RefreshPrefix, tok); err != nil {
		return nil, err
	}
	h := HashToken(tok)
	var (
		rot    Rotation
		reused bool
		wipeAt time.Time // set when a successor was sealed
	)
	err := s.update("rotate_refresh", func(tx *Tx) error {
		rot, reused, wipeAt = Rotation{}, false, time.Time{}
		refresh := tx.Bucket(bucketRefresh)
		var rec RefreshToken
		if err := getJSON(refresh, h[:], &rec); err != nil {
			if errors.Is(err, ErrNotFound) {
				return ErrUnknownToken
			}
			return err
		}
		var sess Session
		if err := getJSON(tx.Bucket(bucketSessions), []byte(rec.SessionID), &sess); err != nil {
			if errors.Is(err, ErrNotFound) {
				return ErrUnknownToken
			}
			return err
		}
		now := s.now().UTC()
		switch sess.Status(now) {
		case "revoked":
			return ErrRevoked
		case "expired":
			return ErrExpired
		}
		u, err := unsafeUser(tx, sess.UserID)
		if err != nil {
			return err
		}
		if u.Disabled {
			return ErrUserDisabled
		}
		rot.Session, rot.User = &sess, u

		if !rec.UsedAt.IsZero() {
			if now.Sub(rec.UsedAt) <= grace && rec.Successor != nil {
				next, err := openSuccessor(tok, h, rec.Successor)
				if err != nil {
					return err
				}
				rot.RefreshToken, rot.RotatedAt = next, rec.UsedAt
				return nil
			}
			// Commit the revocation; the caller gets ErrRefreshReuse.
			reused = true
			return s.unsafeRevokeSession(tx, &sess, actor, "refresh token reuse")
		}

		next, err := NewToken(RefreshPrefix)
		if err != nil {
			return err
		}
		sealed, err := sealSuccessor(tok, h, next)
		if err != nil {
			return err
		}
		rec.UsedAt, rec.Successor, rec.GraceUntil = now, sealed, now.Add(grace)
		if err := putJSON(refresh, h[:], &rec); err != nil {
			return err
		}
		wipeAt = rec.GraceUntil
		if err := s.unsafeAddRefresh(tx, &sess, next, hex.EncodeToString(h[:]), rec.Seq+1); err != nil {
			return err
		}
		rot.RefreshToken, rot.RotatedAt = next, now
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("refresh: %w", err)
	}
	if rot.Session != nil {
		s.forgetSession(rot.Session.ID)
	}
	if !wipeAt.IsZero() {
		s.noteSuccessorWipe(h, wipeAt)
	}
	if reused {
		return nil, ErrRefreshReuse
	}
	return &rot, nil
}

// noteSuccessorWipe remembers that the sealed successor in record h is to
// be wiped after at, the end of its grace window.
func (s *Store) noteSuccessorWipe(h TokenHash, at time.Time) {
	u := &s.upkeep
	u.wipesMu.Lock()
	if u.wipes == nil {
		u.wipes = map[TokenHash]time.Time{}
	}
	u.wipes[h] = at
	u.wipesMu.Unlock()
}

// wipeDueSuccessors wipes the sealed successors whose grace window is
// over, in one write transaction, and only when there is one to wipe.
// A failed write keeps them pending for the next try.
func (s *Store) wipeDueSuccessors() error {
	now := s.now()
	u := &s.upkeep
	var due []TokenHash
	u.wipesMu.Lock()
	for h, at := range u.wipes {
		if now.After(at) {
			due = append(due, h)
		}
	}
	u.wipesMu.Unlock()
	if len(due) == 0 {
		return nil
	}
	err := s.update("wipe_refresh_successors", func(tx *Tx) error {
		b := tx.Bucket(bucketRefresh)
		for _, h := range due {
			var rec RefreshToken
			if getJSON(b, h[:], &rec) != nil || rec.Successor == nil {
				continue // deleted with its session, or wiped already
			}
			rec.Successor = nil
			if err := putJSON(b, h[:], &rec); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("wipe refresh successors: %w", err)
	}
	u.wipesMu.Lock()
	for _, h := range due {
		delete(u.wipes, h)
	}
	u.wipesMu.Unlock()
	return nil
}

// findSealedSuccessors schedules the wipe of every sealed successor in
// the store, in a read transaction: pending wipes live in memory, so a
// restart would otherwise leave the last successor of an idle session in
// place until the session is pruned. Records from before GraceUntil
// existed are given the default grace.
func (s *Store) findSealedSuccessors() error {
	type found struct {
		h  TokenHash
		at time.Time
	}
	var list []found
	err := s.view("find_refresh_successors", func(tx *Tx) error {
		return tx.Bucket(bucketRefresh).ForEach(func(k, v []byte) error {
			var rec RefreshToken
			if len(k) != len(TokenHash{}) || decodeJSON(v, &rec) != nil || rec.Successor == nil {
				return nil
			}
			at := rec.GraceUntil
			if at.IsZero() {
				at = rec.UsedAt.Add(DefaultRefreshGrace)
			}
			list = append(list, found{h: TokenHash(k), at: at})
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("find refresh successors: %w", err)
	}
	for _, f := range list {
		s.noteSuccessorWipe(f.h, f.at)
	}
	return nil
}

// unsafeDeleteRefreshChain deletes a session's refresh records, at most
// budget of them (negative: all), oldest first, so a chain cut short by
// the budget is still a chain from its head; it reports how many it
// deleted and whether the chain is gone.
func unsafeDeleteRefreshChain(tx *Tx, head string, budget int) (int, bool, error) {
	b := tx.Bucket(bucketRefresh)
	var keys [][]byte
	for hop := 0; head != "" && hop < 1_000_000; hop++ {
		key, err := hex.DecodeString(head)
		if err != nil {
			break
		}
		var rec RefreshToken
		if getJSON(b, key, &rec) != nil {
			break
		}
		keys = append(keys, key)
		head = rec.Prev
	}
	n := 0
	for i := len(keys) - 1; i >= 0; i-- {
		if budget >= 0 && n >= budget {
			return n, false, nil
		}
		if err := b.Delete(keys[i]); err != nil {
			return n, false, err
		}
		n++
	}
	return n, true, nil
}

// successorAEAD is AES-256-GCM under SHA-256(domain || old token): a key
// only the holder of the old token can derive.
func successorAEAD(old string) (cipher.AEAD, error) {
	key := sha256.Sum256([]byte(successorDomain + old))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealSuccessor encrypts next for the holder of old; the record's key
// (old's hash) is bound as additional data.
func sealSuccessor(old string, h TokenHash, next string) ([]byte, error) {
	aead, err := successorAEAD(old)
	if err != nil {
		return nil, fmt.Errorf("seal successor: %w", err)
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(next)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal successor: %w", err)
	}
	return aead.Seal(nonce, nonce, []byte(next), h[:]), nil
}

func openSuccessor(old string, h TokenHash, sealed []byte) (string, error) {
	aead, err := successorAEAD(old)
	if err != nil {
		return "", fmt.Errorf("open successor: %w", err)
	}
	if len(sealed) < aead.NonceSize() {
		return "", fmt.Errorf("open successor: %w", ErrInvalidRecord)
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], h[:])
	if err != nil {
		return "", fmt.Errorf("open successor: %w", ErrInvalidRecord)
	}
	return string(plain), nil
}
