package authstore

import (
	"bytes"
	"fmt"
	"io"
)

// Backup writes a consistent copy of the store to w while it stays in use,
// and returns the number of bytes written.
func (s *Store) Backup(w io.Writer) (int64, error) {
	var n int64
	err := s.view("backup", func(tx *Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("back up %s: %w", s.path, err)
	}
	return n, nil
}

// Check verifies the file's page structure and the store's own invariants
// (every index entry points at a record, every record decodes, every token
// has an owner) and returns the problems found; none means healthy.
func (s *Store) Check() ([]string, error) {
	var problems []string
	err := s.view("check", func(tx *Tx) error {
		for err := range tx.Check() {
			problems = append(problems, "bbolt: "+err.Error())
		}
		users := tx.Bucket(bucketUsers)
		agents := tx.Bucket(bucketAgentLogins) // nil: schema 1, opened read-only
		if err := unsafeForEachLogin(tx, func(login, id []byte) error {
			var u User
			if err := getJSON(users, id, &u); err != nil {
				problems = append(problems, fmt.Sprintf("login %s: user %s: %v", login, id, err))
			} else if u.Login != string(login) {
				problems = append(problems, fmt.Sprintf("login %s points at user %s whose login is %s", login, id, u.Login))
			} else if agents != nil && !bytes.Equal(tx.Bucket(loginBucket(u.Kind)).Get(login), id) {
				problems = append(problems, fmt.Sprintf("login %s of %s account %s is indexed in the wrong namespace", login, u.Kind, id))
			}
			return nil
		}); err != nil {
			return err
		}
		if agents != nil {
			if err := agents.ForEach(func(login, _ []byte) error {
				if tx.Bucket(bucketLogins).Get(login) != nil {
					problems = append(problems, fmt.Sprintf("login %s is both a human and an agent login", login))
				}
				return nil
			}); err != nil {
				return err
			}
		}
		pats := tx.Bucket(bucketPATs)
		if err := tx.Bucket(bucketPATIDs).ForEach(func(id, h []byte) error {
			var p PAT
			if err := getJSON(pats, h, &p); err != nil {
				problems = append(problems, fmt.Sprintf("token %s: %v", id, err))
				return nil
			}
			if p.ID != string(id) {
				problems = append(problems, fmt.Sprintf("token index %s points at token %s", id, p.ID))
			}
			if users.Get([]byte(p.UserID)) == nil {
				problems = append(problems, fmt.Sprintf("token %s: owner %s does not exist", id, p.UserID))
			}
			if tx.Bucket(bucketUserPATs).Get(indexKey(p.UserID, p.ID)) == nil {
				problems = append(problems, fmt.Sprintf("token %s: missing from its owner's index", id))
			}
			return nil
		}); err != nil {
			return err
		}
		return pats.ForEach(func(h, v []byte) error {
			var p PAT
			if err := decodeJSON(v, &p); err != nil {
				problems = append(problems, fmt.Sprintf("token record %x: %v", h[:4], err))
				return nil
			}
			if got := tx.Bucket(bucketPATIDs).Get([]byte(p.ID)); !bytes.Equal(got, h) {
				problems = append(problems, fmt.Sprintf("token %s: missing from the id index", p.ID))
			}
			return nil
		})
	})
	if err != nil {
		return problems, fmt.Errorf("check %s: %w", s.path, err)
	}
	return problems, nil
}

// Stats counts what the store holds, for status output.
type Stats struct {
	Users  int `json:"users"`
	Tokens int `json:"tokens"`
}

// Stats counts users and tokens.
func (s *Store) Stats() (Stats, error) {
	var st Stats
	err := s.view("stats", func(tx *Tx) error {
		st.Users = unsafeCountLogins(tx)
		st.Tokens = tx.Bucket(bucketPATIDs).Stats().KeyN
		return nil
	})
	return st, err
}
