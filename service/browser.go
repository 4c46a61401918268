package service

import (
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse/authstore"
)

// BrowserSession is a browser login just recorded: the session and the
// JWT its cookie carries, issued at Issued and kept until Expires.
type BrowserSession struct {
	Session         *authstore.Session
	JWT             string
	Issued, Expires time.Time
}

// StartBrowserSession records a browser login of u from ip and issues the
// JWT of its cookie, which lives for cookieLife (renewed while the
// session lasts) but never past the session. Every login gets a new
// session id (no fixation).
func (s *Service) StartBrowserSession(u *authstore.User, ip, userAgent string, cookieLife time.Duration) (BrowserSession, error) {
	sess, err := s.Store.CreateSession(authstore.NewSession{
		UserID: u.ID, Kind: authstore.SessionBrowser, TTL: s.Policy.SessionTTL, IP: ip, UserAgent: userAgent,
	}, authstore.UserActor(u.ID, ip))
	if err != nil {
		return BrowserSession{}, fmt.Errorf("starting a session for %s: %w", u.Login, err)
	}
	now := s.now()
	exp := now.Add(cookieLife)
	if sess.ExpiresAt.Before(exp) {
		exp = sess.ExpiresAt
	}
	jwt, err := s.Store.IssueSessionJWT(sess, now, now.Add(cookieLife))
	if err != nil {
		return BrowserSession{}, fmt.Errorf("signing session %s: %w", sess.ID, err)
	}
	return BrowserSession{Session: sess, JWT: jwt, Issued: now, Expires: exp}, nil
}

// EndSessions ends the session sessionID of user userID (a logout) or,
// with everywhere, every session of the user, and says how many ended.
func (s *Service) EndSessions(userID, sessionID, ip string, everywhere bool) (int, error) {
	actor := authstore.UserActor(userID, ip)
	if everywhere {
		n, err := s.Store.RevokeUserSessions(userID, actor, "log out everywhere")
		if err != nil {
			return 0, fmt.Errorf("ending the sessions of %s: %w", userID, err)
		}
		return n, nil
	}
	if _, err := s.Store.RevokeSession(sessionID, actor, "logout"); err != nil {
		return 0, fmt.Errorf("ending session %s: %w", sessionID, err)
	}
	return 1, nil
}

// ReplaceSession ends a browser's earlier session when it signs in again,
// rather than leave it valid behind the new one.
func (s *Service) ReplaceSession(userID, sessionID, ip string) {
	_, _ = s.Store.RevokeSession(sessionID, authstore.UserActor(userID, ip), "replaced by a new login")
}
