package service

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/problem"
)

// Secret scanners (GitHub's secret scanning partner program, an
// internal scanner) report strings that look like Gatehouse credentials
// where they should not be: a public repository, a paste, a log. Like
// GitHub's credential revocation API, the report needs no
// authentication: holding the credential is the proof, and revoking a
// leaked one is always right. The answer never says which strings were
// credentials, so the endpoint cannot be used to test guesses.

// Bounds of one report.
const (
	// MaxLeakedCredentials is how many strings one report may hold.
	MaxLeakedCredentials = 1000
	// MaxLeakedCredentialLen bounds each string; a session JWT is the
	// longest credential, a few hundred bytes.
	MaxLeakedCredentialLen = 2048
	// MaxLeakedReportBody bounds the JSON body of one report.
	MaxLeakedReportBody = MaxLeakedCredentials*(MaxLeakedCredentialLen+8) + 1024
)

// RevokeLeaked revokes every valid credential among candidates, as
// reported from client ip: PATs, session JWTs (browser or CLI) and CLI
// refresh tokens, the last two by ending their session. Each revocation
// is audited with actor scanner and ip. Strings that are no credential,
// or one already revoked or expired, are skipped. It returns how many
// credentials it revoked, for the log line; the caller must not tell the
// reporter. A report over the bounds is refused whole, before anything
// changes.
func (s *Service) RevokeLeaked(candidates []string, ip string) (int, error) {
	if len(candidates) == 0 {
		return 0, problem.Errorf(problem.KindInvalid, "credentials: send at least one string")
	}
	if len(candidates) > MaxLeakedCredentials {
		return 0, problem.Errorf(problem.KindInvalid, "credentials: at most %d per report, got %d", MaxLeakedCredentials, len(candidates))
	}
	for i, c := range candidates {
		if len(c) > MaxLeakedCredentialLen {
			return 0, problem.Errorf(problem.KindInvalid, "credentials[%d]: longer than %d bytes", i, MaxLeakedCredentialLen)
		}
	}
	actor := authstore.ScannerActor(ip)
	seen := make(map[string]bool, len(candidates))
	revoked := 0
	var errs []error
	for _, c := range candidates {
		c = strings.TrimSpace(c)
		if c == "" || seen[c] {
			continue
		}
		seen[c] = true
		ok, err := s.revokeLeaked(c, actor)
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			revoked++
		}
	}
	return revoked, errors.Join(errs...)
}

// revokeLeaked revokes c if it is a live credential; ok reports that it
// did. Only store failures are errors: a string that is no credential is
// not one.
func (s *Service) revokeLeaked(c string, actor authstore.Actor) (ok bool, err error) {
	switch {
	case strings.HasPrefix(c, authstore.RefreshPrefix):
		id, err := s.Store.RefreshSessionID(c)
		if err != nil {
			return false, ignoreUnknown(err)
		}
		return s.endLeakedSession(id, actor)
	case strings.HasPrefix(c, s.Policy.TokenPrefix):
		p, err := s.LookupPlaintext(c)
		if err != nil {
			return false, ignoreUnknown(err)
		}
		if !p.RevokedAt.IsZero() {
			return false, nil
		}
		if _, err := s.Store.RevokePAT(p.ID, actor); err != nil {
			return false, fmt.Errorf("revoking leaked token %s: %w", p.ID, err)
		}
		return true, nil
	case strings.Count(c, ".") == 2:
		// A session JWT counts only with a valid signature: a forged one
		// naming someone's session id must not end it.
		st, sess, _, err := s.Store.VerifySessionJWT(c, "")
		// A disabled user's session ends too: the JWT verified, and
		// enabling the user again must not bring the leaked one back.
		if errors.Is(err, authstore.ErrUserDisabled) && sess != nil && st != nil && sess.UserID == st.UserID {
			err = nil
		}
		if err != nil {
			return false, ignoreUnknown(err)
		}
		return s.endLeakedSession(sess.ID, actor)
	}
	return false, nil
}

func (s *Service) endLeakedSession(id string, actor authstore.Actor) (bool, error) {
	if sess, err := s.Store.Session(id); err != nil || !sess.RevokedAt.IsZero() {
		return false, ignoreUnknown(err)
	}
	if _, err := s.Store.RevokeSession(id, actor, reasonLeaked); err != nil {
		return false, ignoreUnknown(err)
	}
	return true, nil
}

// reasonLeaked is the revocation reason of a reported session.
const reasonLeaked = "leaked"

// ignoreUnknown drops the outcomes of a string that is no live
// credential, keeping store failures.
func ignoreUnknown(err error) error {
	for _, e := range []error{authstore.ErrUnknownToken, authstore.ErrNotFound, authstore.ErrRevoked, authstore.ErrExpired,
		authstore.ErrUserDisabled, authstore.ErrMalformedToken, authstore.ErrTokenChecksum} {
		if errors.Is(err, e) {
			return nil
		}
	}
	return err
}
