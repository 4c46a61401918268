package caddymodule

import (
	"errors"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/problem"
)

func init() {
	adminRoutes = append(adminRoutes,
		adminRoute{"POST /gatehouse/users/{login}/password", bindAdmin((*App).adminSetPassword)},
		adminRoute{"POST /gatehouse/users/{login}/totp", bindAdmin((*App).adminEnableTOTP)},
		adminRoute{"DELETE /gatehouse/users/{login}/totp", bindAdmin((*App).adminDisableTOTP)},
		adminRoute{"GET /gatehouse/sessions", bindAdmin((*App).adminListSessions)},
		adminRoute{"DELETE /gatehouse/sessions/{id}", bindAdmin((*App).adminRevokeSession)},
		adminRoute{"DELETE /gatehouse/users/{login}/sessions", bindAdmin((*App).adminRevokeUserSessions)},
	)
}

// bindAdmin adapts a method expression to adminRoute's handler.
func bindAdmin(f func(*App, http.ResponseWriter, *http.Request) error) func(*App) func(http.ResponseWriter, *http.Request) error {
	return func(a *App) func(http.ResponseWriter, *http.Request) error {
		return func(w http.ResponseWriter, r *http.Request) error { return f(a, w, r) }
	}
}

// adminSetPassword stores a new password hash (never a password: see
// api.SetPasswordRequest) and ends the user's sessions: a password reset
// usually means the old one is not to be trusted.
func (a *App) adminSetPassword(w http.ResponseWriter, r *http.Request) error {
	var req api.SetPasswordRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if err := authstore.ValidatePasswordHash(req.PasswordHash); err != nil {
		return problem.Errorf(problem.KindInvalid, "password_hash: %v", err)
	}
	u, err := a.store.SetPassword(r.PathValue("login"), req.PasswordHash, authstore.AdminActor)
	if err != nil {
		return err
	}
	n, err := a.store.RevokeUserSessions(u.ID, authstore.AdminActor, "password changed")
	if err != nil {
		return err
	}
	a.logger.Info("password set", zap.String("user", u.Login), zap.Int("sessions_revoked", n))
	problem.WriteJSON(w, http.StatusOK, api.SetPasswordResponse{User: a.viewUser(u), SessionsRevoked: n})
	return nil
}

func (a *App) adminEnableTOTP(w http.ResponseWriter, r *http.Request) error {
	url, err := a.store.EnableTOTP(r.PathValue("login"), a.policy.Realm, authstore.AdminActor)
	if errors.Is(err, authstore.ErrTOTPEnabled) {
		return problem.Errorf(problem.KindConflict, "TOTP is already enabled for this user; disable it first to issue a new secret")
	}
	if err != nil {
		return err
	}
	u, err := a.store.UserByLogin(r.PathValue("login"))
	if err != nil {
		return err
	}
	a.logger.Info("totp enabled", zap.String("user", u.Login))
	problem.WriteJSON(w, http.StatusOK, api.TOTPResponse{User: a.viewUser(u), URL: url})
	return nil
}

func (a *App) adminDisableTOTP(w http.ResponseWriter, r *http.Request) error {
	u, err := a.store.DisableTOTP(r.PathValue("login"), authstore.AdminActor)
	if err != nil {
		return err
	}
	a.logger.Info("totp disabled", zap.String("user", u.Login))
	problem.WriteJSON(w, http.StatusOK, api.TOTPResponse{User: a.viewUser(u)})
	return nil
}

// viewSession is a session as the admin API and CLI show it; a session
// has no secret to hide (its JWT is not stored). The user agent is
// sanitised again for sessions stored before the store did it.
func viewSession(s *authstore.Session, login string, now time.Time) api.SessionInfo {
	v := api.SessionInfo{
		ID: s.ID, User: login, Kind: s.Kind, Created: s.CreatedAt, Expires: s.ExpiresAt,
		LastSeenIP: s.LastSeenIP, IP: s.IP, UserAgent: authstore.SanitizeUserAgent(s.UserAgent), Status: s.Status(now), Reason: s.RevokedReason,
	}
	if !s.LastSeenAt.IsZero() {
		v.LastSeen = &s.LastSeenAt
	}
	if !s.RevokedAt.IsZero() {
		v.Revoked = &s.RevokedAt
	}
	return v
}

func (a *App) adminListSessions(w http.ResponseWriter, r *http.Request) error {
	a.store.FlushTouches()
	userID, err := a.queryUser(r)
	if err != nil {
		return err
	}
	list, err := a.store.Sessions(userID)
	if err != nil {
		return err
	}
	out := make([]api.SessionInfo, 0, len(list))
	now := time.Now()
	for _, s := range list {
		out = append(out, viewSession(s, a.loginOf(s.UserID), now))
	}
	problem.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *App) adminRevokeSession(w http.ResponseWriter, r *http.Request) error {
	s, err := a.store.RevokeSession(r.PathValue("id"), authstore.AdminActor, "revoked by admin")
	if err != nil {
		return err
	}
	login := a.loginOf(s.UserID)
	a.logger.Info("session revoked", zap.String("session", s.ID), zap.String("user", login), zap.String("by", "admin"))
	problem.WriteJSON(w, http.StatusOK, viewSession(s, login, time.Now()))
	return nil
}

func (a *App) adminRevokeUserSessions(w http.ResponseWriter, r *http.Request) error {
	u, err := a.store.UserByLogin(r.PathValue("login"))
	if err != nil {
		return err
	}
	n, err := a.store.RevokeUserSessions(u.ID, authstore.AdminActor, "logged out everywhere by admin")
	if err != nil {
		return err
	}
	a.logger.Info("sessions revoked", zap.String("user", u.Login), zap.Int("count", n), zap.String("by", "admin"))
	problem.WriteJSON(w, http.StatusOK, api.RevokeSessionsResponse{User: u.Login, Revoked: n})
	return nil
}
