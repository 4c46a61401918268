package authstore

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"
)

// MaxResourceNameLen bounds a resource name in bytes.
const MaxResourceNameLen = 128

// ValidateResourceType checks the shape of a resource type or role name:
// 1 to 32 of a-z 0-9 _ -, starting with a letter. Which types and roles
// exist is the configuration's business; the store only keeps the shape
// that headers and "type:name" keys rely on.
func ValidateResourceType(s string) error {
	if s == "" || len(s) > 32 || s[0] < 'a' || s[0] > 'z' {
		return fmt.Errorf("%q: must start with a-z and be at most 32 characters", s)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return fmt.Errorf("%q: only a-z, 0-9, _ and - are allowed", s)
		}
	}
	return nil
}

// ValidateResourceName checks a resource's name ("atlas" in
// project:atlas): 1 to MaxResourceNameLen bytes of UTF-8 without '/',
// control or format characters (as token names, text.go), and not "." or
// "..". A name is one path segment as a rule's {placeholder} captures it,
// so a name that no canonical path can carry is refused rather than
// stored unreachable. Letters of any script are allowed; names compare
// byte for byte, so case and Unicode normalisation matter ("Atlas" is not
// "atlas").
func ValidateResourceName(name string) error {
	switch {
	case name == "" || len(name) > MaxResourceNameLen:
		return fmt.Errorf("resource name %q: must be 1 to %d bytes", name, MaxResourceNameLen)
	case !utf8.ValidString(name):
		return fmt.Errorf("resource name %q: must be valid UTF-8", name)
	case strings.ContainsRune(name, '/'):
		return fmt.Errorf("resource name %q: must not contain /", name)
	case strings.ContainsFunc(name, unsafeRune):
		return fmt.Errorf("resource name %q: must not contain control or formatting characters", name)
	case name == "." || name == "..":
		return fmt.Errorf("resource name %q: a path cannot name it", name)
	}
	return nil
}

// ResourceKey joins a type and a name as User.Memberships and
// PAT.ResourceCaps key them: "project:atlas".
func ResourceKey(typ, name string) string { return typ + ":" + name }

// SplitResourceKey splits and checks a "type:name" key.
func SplitResourceKey(key string) (typ, name string, err error) {
	typ, name, ok := strings.Cut(key, ":")
	if !ok {
		return "", "", fmt.Errorf("resource %q: want type:name", key)
	}
	if err := ValidateResourceType(typ); err != nil {
		return "", "", fmt.Errorf("resource %q: type %w", key, err)
	}
	if err := ValidateResourceName(name); err != nil {
		return "", "", fmt.Errorf("resource %q: %w", key, err)
	}
	return typ, name, nil
}

// Membership is a user's role on one resource.
type Membership struct {
	Type string `json:"type"`
	Name string `json:"name"`
	Role string `json:"role"`
}

// MembershipList returns u's memberships ordered by type, then name.
// Keys that do not split (none are written so) are skipped.
func (u *User) MembershipList() []Membership {
	out := make([]Membership, 0, len(u.Memberships))
	for key, role := range u.Memberships {
		typ, name, ok := strings.Cut(key, ":")
		if ok {
			out = append(out, Membership{Type: typ, Name: name, Role: role})
		}
	}
	slices.SortFunc(out, func(a, b Membership) int {
		return cmp.Or(strings.Compare(a.Type, b.Type), strings.Compare(a.Name, b.Name))
	})
	return out
}

// errNoChange aborts a membership write that would change nothing.
var errNoChange = errors.New("no change")

// SetMembership gives the user login role on the resource typ:name,
// replacing any role held there, and returns the user and the previous
// role ("" for none). The write and its membership.changed audit event
// commit together, and the user's cached record is dropped before
// SetMembership returns, so the next request of every token and session
// of the user is decided on the new role. Type and role are checked for
// shape only: the caller checks them against the declared resource types.
func (s *Store) SetMembership(login, typ, name, role string, actor Actor) (*User, string, error) {
	if err := ValidateResourceType(typ); err != nil {
		return nil, "", fmt.Errorf("set membership: resource type %w", err)
	}
	if err := ValidateResourceName(name); err != nil {
		return nil, "", fmt.Errorf("set membership: %w", err)
	}
	if err := ValidateResourceType(role); err != nil {
		return nil, "", fmt.Errorf("set membership: role %w", err)
	}
	key := ResourceKey(typ, name)
	var prev string
	u, err := s.updateUser(login, ActionMembershipChange, actor, func(u *User) (string, error) {
		prev = u.Memberships[key]
		if prev == role {
			return "", errNoChange
		}
		// A fresh map: the record was decoded for this transaction, but a
		// copy keeps that true whatever the caller does with the result.
		m := maps.Clone(u.Memberships)
		if m == nil {
			m = map[string]string{}
		}
		m[key] = role
		u.Memberships = m
		if prev == "" {
			return fmt.Sprintf("%s %s (new)", key, role), nil
		}
		return fmt.Sprintf("%s %s (was %s)", key, role, prev), nil
	})
	if errors.Is(err, errNoChange) {
		u, err = s.UserByLogin(login)
	}
	if err != nil {
		return nil, "", fmt.Errorf("set membership %s: %w", key, err)
	}
	return u, prev, nil
}

// RemoveMembership takes the user's role on typ:name away and returns the
// user and the role removed; no such membership is ErrNotFound. Like
// SetMembership, it is audited and takes effect on the next request.
func (s *Store) RemoveMembership(login, typ, name string, actor Actor) (*User, string, error) {
	key := ResourceKey(typ, name)
	var prev string
	u, err := s.updateUser(login, ActionMembershipChange, actor, func(u *User) (string, error) {
		prev = u.Memberships[key]
		if prev == "" {
			return "", fmt.Errorf("%s has no membership on %s: %w", u.Login, key, ErrNotFound)
		}
		m := maps.Clone(u.Memberships)
		delete(m, key)
		if len(m) == 0 {
			m = nil
		}
		u.Memberships = m
		return fmt.Sprintf("%s removed (was %s)", key, prev), nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("remove membership %s: %w", key, err)
	}
	return u, prev, nil
}
