package caddymodule

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/problem"
)

func init() {
	registerEndpoint(&endpoint{
		name: "session", path: api.PathSession, methods: []string{http.MethodPost},
		access: accessNone, serve: (*Handler).serveCLISession,
	})
	registerEndpoint(&endpoint{
		name: "refresh", path: api.PathRefresh, methods: []string{http.MethodPost},
		access: accessNone, serve: (*Handler).serveRefresh,
	})
}

// serveCLISession answers POST /api/session: a CLI logs in with login,
// password and, when the account has it, totp (JSON or form), and gets a
// short access JWT and a refresh token. Same backoff and same single
// failure message as the login form.
func (h *Handler) serveCLISession(w http.ResponseWriter, r *http.Request, id *Identity) error {
	params, d := readParams(r)
	if d != nil {
		return h.refuse(w, r, d, id, -1)
	}
	u, d := h.checkPassword(r, params.Get("login"), params.Get("password"), params.Get("totp"))
	if d != nil {
		return h.refuse(w, r, d, id, -1)
	}
	ip := clientIP(r)
	sess, refresh, err := h.app.store.CreateCLISession(authstore.NewSession{
		UserID: u.ID, TTL: h.app.policy.RefreshTTL, IP: ip, UserAgent: r.UserAgent(),
	}, authstore.UserActor(u.ID, ip))
	if err != nil {
		h.logger.Error("starting CLI session", zap.String("user", u.Login), zap.Error(err))
		return h.refuse(w, r, problem.Internal(), id, -1)
	}
	h.logger.Info("login", zap.String("user", u.Login), zap.String("session", sess.ID),
		zap.String("kind", sess.Kind), zap.String("client_ip", ip))
	return h.writeCLITokens(w, r, id, sess, u, refresh, time.Now())
}

// serveRefresh answers POST /api/refresh: refresh_token (and optionally
// grant_type=refresh_token) in, a new access JWT and the rotated refresh
// token out. Two refreshes of one token within the grace window get the
// same answer; a refresh token used again later ends the whole session.
func (h *Handler) serveRefresh(w http.ResponseWriter, r *http.Request, id *Identity) error {
	params, d := readParams(r)
	if d != nil {
		return h.refuse(w, r, d, id, -1)
	}
	if gt := params.Get("grant_type"); gt != "" && gt != api.RefreshGrantType {
		return h.refuse(w, r, &problem.Problem{Status: http.StatusBadRequest, Code: "unsupported_grant_type",
			Message: "grant_type must be refresh_token", Reason: "bad_grant_type"}, id, -1)
	}
	tok := strings.TrimSpace(params.Get("refresh_token"))
	if tok == "" {
		return h.refuse(w, r, problem.BadAuthorization("refresh_missing", "send refresh_token"), id, -1)
	}
	rot, err := h.app.store.RotateRefresh(tok, authstore.DefaultRefreshGrace, authstore.Actor{Kind: authstore.ActorSystem, IP: clientIP(r)})
	if err != nil {
		return h.refuse(w, r, h.refreshDenial(r, err), id, -1)
	}
	return h.writeCLITokens(w, r, id, rot.Session, rot.User, rot.RefreshToken, rot.RotatedAt)
}

// writeCLITokens issues the access JWT, dated from `at` so that answers
// made from one rotation are identical.
func (h *Handler) writeCLITokens(w http.ResponseWriter, r *http.Request, id *Identity, sess *authstore.Session, u *authstore.User, refresh string, at time.Time) error {
	exp := earliest(at.Add(h.app.policy.AccessTTL), sess.ExpiresAt)
	access, err := h.app.store.IssueSessionJWT(sess, at, exp)
	if err != nil {
		h.logger.Error("issuing access token", zap.String("session", sess.ID), zap.Error(err))
		return h.refuse(w, r, problem.Internal(), id, -1)
	}
	now := time.Now()
	problem.WriteJSON(w, http.StatusOK, api.CLITokens{
		AccessToken: access, TokenType: "Bearer", ExpiresIn: max(0, int(exp.Sub(now)/time.Second)),
		RefreshToken: refresh, RefreshExpiresIn: max(0, int(sess.ExpiresAt.Sub(now)/time.Second)),
		SessionID: sess.ID, Scope: strings.Join(h.app.userScopes(u), " "),
	})
	return nil
}

// refreshDenial maps a failed rotation to RFC 6749's invalid_grant (400).
func (h *Handler) refreshDenial(r *http.Request, err error) *problem.Problem {
	grant := func(reason, msg string) *problem.Problem {
		return &problem.Problem{Status: http.StatusBadRequest, Code: "invalid_grant", Message: msg, Reason: reason}
	}
	switch {
	case errors.Is(err, authstore.ErrRefreshReuse):
		h.logger.Warn("refresh token reused after rotation; session revoked", zap.String("client_ip", clientIP(r)))
		return grant("refresh_reuse", "refresh token already used; the session has been revoked, log in again")
	case errors.Is(err, authstore.ErrRevoked):
		return grant("session_revoked", "the session has been revoked; log in again")
	case errors.Is(err, authstore.ErrExpired):
		return grant("session_expired", "the session has expired; log in again")
	case errors.Is(err, authstore.ErrUserDisabled):
		return grant("user_disabled", "user disabled")
	case errors.Is(err, authstore.ErrUnknownToken), errors.Is(err, authstore.ErrMalformedToken), errors.Is(err, authstore.ErrTokenChecksum):
		return grant("refresh_unknown", "unknown refresh token")
	}
	h.logger.Error("refreshing session", zap.Error(err))
	return problem.Internal()
}
