package service

import (
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
)

// The admin's session operations: list and revoke browser and CLI
// sessions.

// SessionInfo is a session as the admin API and CLI show it; a session
// has no secret to hide (its JWT is not stored). The user agent is
// sanitised again for sessions stored before the store did it.
func (s *Service) SessionInfo(sess *authstore.Session, login string) api.SessionInfo {
	return sessionInfo(sess, login, s.now())
}

func sessionInfo(sess *authstore.Session, login string, now time.Time) api.SessionInfo {
	v := api.SessionInfo{
		ID: sess.ID, User: login, Kind: sess.Kind, Created: sess.CreatedAt, Expires: sess.ExpiresAt,
		LastSeenIP: sess.LastSeenIP, IP: sess.IP, UserAgent: authstore.SanitizeUserAgent(sess.UserAgent),
		Status: sess.Status(now), Reason: sess.RevokedReason,
	}
	if !sess.LastSeenAt.IsZero() {
		v.LastSeen = &sess.LastSeenAt
	}
	if !sess.RevokedAt.IsZero() {
		v.Revoked = &sess.RevokedAt
	}
	return v
}

// Sessions lists the sessions of the user with login, or of every user
// for "", with last-seen stamps flushed.
func (s *Service) Sessions(login string) ([]api.SessionInfo, error) {
	s.Store.FlushTouches()
	userID, err := s.UserID(login)
	if err != nil {
		return nil, err
	}
	list, err := s.Store.Sessions(userID)
	if err != nil {
		return nil, err
	}
	out := make([]api.SessionInfo, 0, len(list))
	now := s.now()
	for _, sess := range list {
		out = append(out, sessionInfo(sess, s.LoginOf(sess.UserID), now))
	}
	return out, nil
}

// RevokeSession is the admin's revocation of one session by id.
func (s *Service) RevokeSession(id string) (api.SessionInfo, error) {
	return s.RevokeSessionAs(id, authstore.AdminActor)
}

// RevokeUserSessions is the admin's "log out everywhere" for the user
// with login.
func (s *Service) RevokeUserSessions(login string) (api.RevokeSessionsResponse, error) {
	u, err := s.Store.UserByLogin(login)
	if err != nil {
		return api.RevokeSessionsResponse{}, err
	}
	n, err := s.Store.RevokeUserSessions(u.ID, authstore.AdminActor, "logged out everywhere by admin")
	if err != nil {
		return api.RevokeSessionsResponse{}, err
	}
	s.log().Info("sessions revoked", zap.String("user", u.Login), zap.Int("count", n), zap.String("by", authstore.ActorAdmin))
	return api.RevokeSessionsResponse{User: u.Login, Revoked: n}, nil
}
