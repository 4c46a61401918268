package service

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/decision"
	"github.com/gatehouse/gatehouse/problem"
)

// CLI sessions: a command-line client logs in once and then lives on a
// short access JWT and a refresh token that rotates on every use.

// StartCLISession starts a CLI session for u, whose credentials were
// checked, from client IP ip, and issues its first tokens. A failure is
// the server's: it is logged and answers 500 (*problem.Problem).
func (s *Service) StartCLISession(u *authstore.User, ip, userAgent string) (api.CLITokens, error) {
	sess, refresh, err := s.Store.CreateCLISession(authstore.NewSession{
		UserID: u.ID, TTL: s.Policy.RefreshTTL, IP: ip, UserAgent: userAgent,
	}, authstore.UserActor(u.ID, ip))
	if err != nil {
		s.log().Error("starting CLI session", zap.String("user", u.Login), zap.Error(err))
		return api.CLITokens{}, problem.Internal()
	}
	s.log().Info("login", zap.String("user", u.Login), zap.String("session", sess.ID),
		zap.String("kind", sess.Kind), zap.String("client_ip", ip))
	return s.cliTokens(sess, u, refresh, s.now())
}

// DeviceSession consumes an approved device grant (deviceCode, polled by
// clientID from ip) for a CLI session instead of a PAT, for a client that
// prefers short-lived credentials: the answer is StartCLISession's, and
// the session holds its user's scopes, like a password login. A grant
// that is not ready is refused with the store's error (ErrAuthorizationPending,
// ErrSlowDown, ErrAccessDenied, ErrExpired, ErrDeviceCodeUsed,
// ErrNotFound, ErrUserDisabled) and its grant, for the device token
// endpoint to answer as for a PAT; a failure of the server is logged and
// answers 500 (*problem.Problem).
func (s *Service) DeviceSession(deviceCode, clientID, ip, userAgent string) (api.CLITokens, *authstore.DeviceGrant, error) {
	sess, refresh, g, err := s.Store.PollDeviceSession(deviceCode, clientID, authstore.NewSession{
		TTL: s.Policy.RefreshTTL, IP: ip, UserAgent: userAgent,
	})
	if err != nil {
		if isPollRefusal(err) {
			return api.CLITokens{}, g, err
		}
		s.log().Error("starting CLI session from a device grant", zap.Error(err))
		return api.CLITokens{}, g, problem.Internal()
	}
	u, err := s.Store.User(sess.UserID)
	if err != nil {
		s.log().Error("reading the user of a device session", zap.String("session", sess.ID), zap.Error(err))
		return api.CLITokens{}, g, problem.Internal()
	}
	s.log().Info("login", zap.String("user", u.Login), zap.String("session", sess.ID),
		zap.String("kind", sess.Kind), zap.String("via", "device"), zap.String("client_ip", ip))
	tokens, err := s.cliTokens(sess, u, refresh, s.now())
	return tokens, g, err
}

// isPollRefusal reports whether err is one of the answers a device token
// poll gives a client, rather than a failure of the server.
func isPollRefusal(err error) bool {
	for _, e := range []error{authstore.ErrAuthorizationPending, authstore.ErrSlowDown, authstore.ErrAccessDenied,
		authstore.ErrExpired, authstore.ErrDeviceCodeUsed, authstore.ErrNotFound, authstore.ErrUserDisabled} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// Refresh rotates refreshToken (grantType, when sent, must be
// refresh_token) for the client at ip: a new access JWT and the rotated
// refresh token. Two refreshes of one token within the grace window get
// the same answer; a refresh token used again later ends the whole
// session. Its refusals are *problem.Problem, RFC 6749's invalid_grant
// for a token that cannot be rotated.
func (s *Service) Refresh(grantType, refreshToken, ip string) (api.CLITokens, error) {
	if grantType != "" && grantType != api.RefreshGrantType {
		return api.CLITokens{}, &problem.Problem{Status: http.StatusBadRequest, Code: "unsupported_grant_type",
			Message: "grant_type must be refresh_token", Reason: "bad_grant_type"}
	}
	tok := strings.TrimSpace(refreshToken)
	if tok == "" {
		return api.CLITokens{}, problem.BadAuthorization("refresh_missing", "send refresh_token")
	}
	rot, err := s.Store.RotateRefresh(tok, authstore.DefaultRefreshGrace, authstore.Actor{Kind: authstore.ActorSystem, IP: ip})
	if err != nil {
		return api.CLITokens{}, s.refreshDenial(err, ip)
	}
	return s.cliTokens(rot.Session, rot.User, rot.RefreshToken, rot.RotatedAt)
}

// cliTokens issues the access JWT, dated from at so that answers made
// from one rotation are identical.
func (s *Service) cliTokens(sess *authstore.Session, u *authstore.User, refresh string, at time.Time) (api.CLITokens, error) {
	exp := at.Add(s.Policy.AccessTTL)
	if sess.ExpiresAt.Before(exp) {
		exp = sess.ExpiresAt
	}
	access, err := s.Store.IssueSessionJWT(sess, at, exp)
	if err != nil {
		s.log().Error("issuing access token", zap.String("session", sess.ID), zap.Error(err))
		return api.CLITokens{}, problem.Internal()
	}
	now := s.now()
	return api.CLITokens{
		AccessToken: access, TokenType: "Bearer", ExpiresIn: max(0, int(exp.Sub(now)/time.Second)),
		RefreshToken: refresh, RefreshExpiresIn: max(0, int(sess.ExpiresAt.Sub(now)/time.Second)),
		SessionID: sess.ID, Scope: strings.Join(decision.UserScopes(u, s.Policy.Scopes), " "),
	}, nil
}

// refreshDenial answers a failed rotation (problem.From, Refresh: RFC
// 6749's invalid_grant) and logs what the operator should see.
func (s *Service) refreshDenial(err error, ip string) *problem.Problem {
	d := problem.From(err, problem.Refresh)
	switch {
	case errors.Is(err, authstore.ErrRefreshReuse):
		s.log().Warn("refresh token reused after rotation; session revoked", zap.String("client_ip", ip))
	case d.Status >= http.StatusInternalServerError:
		s.log().Error("refreshing session", zap.Error(err))
	}
	return d
}
