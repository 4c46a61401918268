package authstore

import (
	"encoding/binary"
	"fmt"
	"time"
)

// Audit actions recorded in the store.
const (
	ActionUserCreated      = "user.created"
	ActionUserUpdated      = "user.updated"
	ActionTokenCreated     = "token.created"
	ActionTokenRevoked     = "token.revoked"
	ActionLogin            = "login"
	ActionLoginFailed      = "login.failed"
	ActionSessionRevoked   = "session.revoked"
	ActionDeviceApproved   = "device.approved"
	ActionDeviceDenied     = "device.denied"
	ActionMembershipChange = "membership.changed"
)

// Actor kinds: who caused an audited change.
const (
	ActorAdmin        = "admin"        // the operator, through the CLI or admin API
	ActorUser         = "user"         // a signed-in user, self-service
	ActorToken        = "token"        // a PAT acting on itself
	ActorRegistration = "registration" // an agent registering itself
	ActorSystem       = "system"       // Gatehouse itself (refresh-token reuse detection)
)

// Actor is who caused a change, for the audit trail.
type Actor struct {
	// Kind is one of the Actor kinds.
	Kind   string `json:"kind"`
	UserID string `json:"user_id,omitempty"`
	IP     string `json:"ip,omitempty"`
}

// AdminActor is the operator acting through the admin API or CLI.
var AdminActor = Actor{Kind: ActorAdmin}

// UserActor is user userID acting for themself from client ip.
func UserActor(userID, ip string) Actor { return Actor{Kind: ActorUser, UserID: userID, IP: ip} }

// Event is one audit record. It never holds a secret.
type Event struct {
	Seq     uint64    `json:"seq"`
	Time    time.Time `json:"time"`
	Action  string    `json:"action"`
	Actor   Actor     `json:"actor"`
	UserID  string    `json:"user_id,omitempty"`
	TokenID string    `json:"token_id,omitempty"`
	Detail  string    `json:"detail,omitempty"`
	// Edge and Revision, in fleet mode, name the edge that made the
	// change and the etcd revision its commit created (0: queued in the
	// outbox while etcd was unavailable).
	Edge     string `json:"edge,omitempty"`
	Revision int64  `json:"revision,omitempty"`
}

// unsafeAudit appends e inside the caller's write transaction, so the trail
// and the change it records commit together.
//
// In fleet mode the trail stays on the edge: the event is held until the
// etcd commit, then written here tagged with the edge and the revision.
func (s *Store) unsafeAudit(tx *Tx, e Event) error {
	if tx.f != nil {
		if e.Time.IsZero() {
			e.Time = s.now().UTC()
		}
		tx.f.events = append(tx.f.events, e)
		return nil
	}
	b := tx.Bucket(bucketAudit)
	seq, err := b.NextSequence()
	if err != nil {
		return fmt.Errorf("audit sequence: %w", err)
	}
	e.Seq = seq
	if e.Time.IsZero() {
		e.Time = s.now().UTC()
	}
	var key [8]byte
	binary.BigEndian.PutUint64(key[:], seq)
	return putJSON(b, key[:], e)
}

// Audit returns up to limit most recent events, newest first, optionally
// only those about userID.
func (s *Store) Audit(userID string, limit int) ([]Event, error) {
	var out []Event
	err := s.view("audit", func(tx *Tx) error {
		c := tx.Bucket(bucketAudit).Cursor()
		for k, _ := c.Last(); k != nil && (limit <= 0 || len(out) < limit); k, _ = c.Prev() {
			var e Event
			if err := getJSON(tx.Bucket(bucketAudit), k, &e); err != nil {
				return err
			}
			if userID == "" || e.UserID == userID || e.Actor.UserID == userID {
				out = append(out, e)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read audit trail: %w", err)
	}
	return out, nil
}

// AuditQuery reads the trail newest first from before the event with
// sequence before (0: from the newest), keeping the events match accepts,
// up to limit of them; next is the sequence to pass as before for the
// following page, 0 when there is none.
func (s *Store) AuditQuery(before uint64, limit int, match func(*Event) bool) (events []Event, next uint64, err error) {
	err = s.view("audit_query", func(tx *Tx) error {
		b := tx.Bucket(bucketAudit)
		c := b.Cursor()
		var k []byte
		if before == 0 {
			k, _ = c.Last()
		} else {
			var key [8]byte
			binary.BigEndian.PutUint64(key[:], before)
			k, _ = c.Seek(key[:])
			if k == nil {
				k, _ = c.Last()
			} else {
				k, _ = c.Prev()
			}
		}
		for ; k != nil; k, _ = c.Prev() {
			var e Event
			if err := getJSON(b, k, &e); err != nil {
				return err
			}
			if !match(&e) {
				continue
			}
			if len(events) == limit {
				next = events[len(events)-1].Seq
				return nil
			}
			events = append(events, e)
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("read audit trail: %w", err)
	}
	return events, next, nil
}
