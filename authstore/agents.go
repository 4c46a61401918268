package authstore

import (
	"fmt"
)

// RegisterAgent creates an agent account (Kind KindAgent) and its first
// token in one transaction, so that a failure leaves neither behind and
// no account without a key is ever visible. agent.Kind is ignored; key's
// UserID is filled in with the new account's id. A taken login (human or
// agent) is ErrExists, a reserved one (ReservedLogin) ErrReservedLogin.
// The agent's login lives in the agent namespace (logins.go), so
// registering never ends first-admin setup. It returns the token's plaintext, which is never available
// again, with both records.
//
// The actor acts for the new account: its UserID is set to the agent's id
// when empty, so the audit trail ties both events to the agent.
func (s *Store) RegisterAgent(agent NewUser, key NewPAT, actor Actor) (string, *User, *PAT, error) {
	agent.Kind = KindAgent
	u, err := s.newUserRecord(agent)
	if err != nil {
		return "", nil, nil, err
	}
	if ReservedLogin(u.Login) {
		return "", nil, nil, fmt.Errorf("register agent %s: %w", u.Login, ErrReservedLogin)
	}
	key.UserID = u.ID
	tok, p, err := s.newPATRecord(key)
	if err != nil {
		return "", nil, nil, err
	}
	if actor.UserID == "" {
		actor.UserID = u.ID
	}
	h := HashToken(tok)
	err = s.update("register_agent", func(tx *Tx) error {
		if err := s.unsafeInsertUser(tx, u, actor); err != nil {
			return err
		}
		return s.unsafeInsertPAT(tx, h, p, actor)
	})
	if err != nil {
		return "", nil, nil, fmt.Errorf("register agent %s: %w", u.Login, err)
	}
	return tok, u, p, nil
}

// keyPrefixLen is how many random characters KeyPrefix shows: the same
// four as TokenHint, so a registered key can be matched to its listing.
const keyPrefixLen = 4

// KeyPrefix is the public stem of a token: its prefix and the first four
// characters of its random part (`qat_AbCd`), which is TokenHint without
// the mask. Registration returns it beside the key, and revocation by an
// agent asks for it as a confirmation of which key it means. It is not
// secret (24 of the token's 178 random bits) and not unique.
func KeyPrefix(prefix, tok string) string {
	end := min(len(prefix)+keyPrefixLen, len(tok))
	return tok[:end]
}
