package service

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/problem"
)

// The admin console's operations beyond the admin API's: every one takes
// the actor, a signed-in administrator (ConsoleActor), so the audit
// trail names who did it.

// ConsoleActor is administrator u acting in the console from ip.
func ConsoleActor(u *authstore.User, ip string) authstore.Actor {
	return authstore.Actor{Kind: authstore.ActorAdmin, UserID: u.ID, IP: ip}
}

// PasswordLinkTTL is how long a one-time password link works.
const PasswordLinkTTL = 72 * time.Hour

// LinkInvalid is the refusal reason of a wrong, used or expired
// password link (403).
const LinkInvalid = "link_invalid"

// PasswordLink is a one-time password-setting link just issued: the
// token goes into the link's fragment, shown to the administrator once.
type PasswordLink struct {
	Login   string
	Token   string
	Expires time.Time
}

// CreateUserWithLink creates a user (CreateUser's checks) without a
// password and issues the one-time link that sets it.
func (s *Service) CreateUserWithLink(req api.CreateUserRequest, actor authstore.Actor) (api.UserInfo, PasswordLink, error) {
	info, err := s.CreateUser(req, actor)
	if err != nil {
		return api.UserInfo{}, PasswordLink{}, err
	}
	link, err := s.IssuePasswordLink(info.Login, actor)
	return info, link, err
}

// IssuePasswordLink gives the user with login a fresh one-time link to
// set their password (replacing an earlier one); agents have none.
func (s *Service) IssuePasswordLink(login string, actor authstore.Actor) (PasswordLink, error) {
	u, err := s.Store.UserByLogin(login)
	if err != nil {
		return PasswordLink{}, err
	}
	if u.Kind == authstore.KindAgent {
		return PasswordLink{}, badInput("an agent account has no password")
	}
	tok, exp, err := s.Store.IssuePasswordLink(u.Login, PasswordLinkTTL, actor)
	if err != nil {
		return PasswordLink{}, err
	}
	s.log().Info("password link issued", zap.String("user", u.Login), zap.String("by", actorName(actor)))
	return PasswordLink{Login: u.Login, Token: tok, Expires: exp}, nil
}

// UsePasswordLink sets the password of the user with login through
// their link: the token is checked behind the backoff before any
// hashing, the password against the policy, and the link works once.
func (s *Service) UsePasswordLink(ctx context.Context, login, token, password, confirm, ip string) (*authstore.User, error) {
	if s.Logins == nil {
		return nil, problem.Internal()
	}
	at, wait := s.Logins.beginLogin(s.now(), newLoginKeys(login, ip))
	if at == nil {
		return nil, throttled(wait)
	}
	if err := s.Store.CheckPasswordLink(login, token); err != nil {
		return nil, accountRefusal(http.StatusForbidden, LinkInvalid, "this link is wrong, used or expired")
	}
	at.succeeded()
	if err := authstore.CheckPasswordPolicy(password); err != nil {
		return nil, accountRefusal(http.StatusBadRequest, AccountBadPassword, err.Error())
	}
	if password != confirm {
		return nil, accountRefusal(http.StatusBadRequest, AccountMismatch, "the passwords do not match")
	}
	hash, err := authstore.HashPasswordContext(ctx, password)
	if err != nil {
		return nil, hashFailure(err)
	}
	u, err := s.Store.UsePasswordLink(login, token, hash, authstore.Actor{Kind: authstore.ActorUser, IP: ip})
	if errors.Is(err, authstore.ErrBadCredentials) {
		return nil, accountRefusal(http.StatusForbidden, LinkInvalid, "this link is wrong, used or expired")
	}
	if err != nil {
		return nil, err
	}
	s.log().Info("password set with link", zap.String("user", u.Login), zap.String("client_ip", ip))
	return u, nil
}

// SetScopes limits the user with login to scopes from the catalog, or
// with all lifts the limit (every scope, now and later).
func (s *Service) SetScopes(login string, all bool, scopes []string, actor authstore.Actor) (api.UserInfo, error) {
	var list []string
	detail := "scopes all"
	if !all {
		if err := s.Policy.CheckScopes(scopes); err != nil {
			return api.UserInfo{}, badInput("%v", err)
		}
		list = append([]string{}, scopes...)
		detail = "scopes " + strings.Join(list, " ")
	}
	u, err := s.Store.UpdateUser(login, actor, detail, func(u *authstore.User) error {
		u.Scopes = list
		return nil
	})
	if err != nil {
		return api.UserInfo{}, err
	}
	return s.UserInfo(u), nil
}

// ResetSecondFactor removes the user's TOTP, its recovery codes, any
// enrolment and their passkeys, for a user who lost their authenticator.
func (s *Service) ResetSecondFactor(login string, actor authstore.Actor) (api.UserInfo, error) {
	u, err := s.Store.ResetSecondFactor(login, actor)
	if err != nil {
		return api.UserInfo{}, err
	}
	s.log().Info("second factor reset", zap.String("user", u.Login), zap.String("by", actorName(actor)))
	return s.UserInfo(u), nil
}

// RevokeEverything revokes every active token and ends every session of
// the user with login (a compromised account), and says how many.
func (s *Service) RevokeEverything(login string, actor authstore.Actor) (tokens, sessions int, err error) {
	u, err := s.Store.UserByLogin(login)
	if err != nil {
		return 0, 0, err
	}
	pats, err := s.Store.PATs(u.ID)
	if err != nil {
		return 0, 0, err
	}
	now := s.now()
	for _, p := range pats {
		if p.Status(now) != "active" {
			continue
		}
		if _, err := s.Store.RevokePAT(p.ID, actor); err != nil {
			return tokens, 0, fmt.Errorf("revoking %s: %w", p.ID, err)
		}
		tokens++
	}
	if sessions, err = s.Store.RevokeUserSessions(u.ID, actor, "revoked by admin"); err != nil {
		return tokens, 0, err
	}
	s.log().Info("everything revoked", zap.String("user", u.Login), zap.Int("tokens", tokens), zap.Int("sessions", sessions),
		zap.String("by", actorName(actor)))
	return tokens, sessions, nil
}

// RevokeTokenAs is RevokeToken by a given actor (the console's
// administrator).
func (s *Service) RevokeTokenAs(id string, actor authstore.Actor) (api.TokenInfo, error) {
	p, err := s.Store.RevokePAT(id, actor)
	if err != nil {
		return api.TokenInfo{}, err
	}
	s.log().Info("token revoked", zap.String("token_id", p.ID), zap.String("by", actorName(actor)))
	return s.TokenInfo(p, s.LoginOf(p.UserID)), nil
}

// RevokeSessionAs is RevokeSession by a given actor.
func (s *Service) RevokeSessionAs(id string, actor authstore.Actor) (api.SessionInfo, error) {
	sess, err := s.Store.RevokeSession(id, actor, "revoked by admin")
	if err != nil {
		return api.SessionInfo{}, err
	}
	login := s.LoginOf(sess.UserID)
	s.log().Info("session revoked", zap.String("session", sess.ID), zap.String("user", login), zap.String("by", actorName(actor)))
	return s.SessionInfo(sess, login), nil
}

// AuditFilter selects audit events for the console: by the user the
// event is about, the actor's login, the action (a prefix: "token"
// matches token.created and token.revoked) and a time range.
type AuditFilter struct {
	User, Actor, Action string
	Since, Until        time.Time
	// Before pages: the Seq of the last event of the previous page.
	Before uint64
	Limit  int
}

// AuditLine is an audit event with logins instead of ids.
type AuditLine struct {
	api.AuditEvent
	UserLogin, ActorLogin string
}

// AuditSearch is one page of the audit trail, newest first, and the
// Before of the next page (0: none). An unknown login matches nothing.
func (s *Service) AuditSearch(f AuditFilter) ([]AuditLine, uint64, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	var userID, actorID string
	if f.User != "" {
		u, err := s.Store.UserByLogin(f.User)
		if err != nil {
			return nil, 0, nil
		}
		userID = u.ID
	}
	if f.Actor != "" {
		u, err := s.Store.UserByLogin(f.Actor)
		if err != nil {
			return nil, 0, nil
		}
		actorID = u.ID
	}
	events, next, err := s.Store.AuditQuery(f.Before, f.Limit, func(e *authstore.Event) bool {
		return (userID == "" || e.UserID == userID) && (actorID == "" || e.Actor.UserID == actorID) &&
			(f.Action == "" || strings.HasPrefix(e.Action, f.Action)) &&
			(f.Since.IsZero() || !e.Time.Before(f.Since)) && (f.Until.IsZero() || e.Time.Before(f.Until))
	})
	if err != nil {
		return nil, 0, err
	}
	out := make([]AuditLine, 0, len(events))
	for _, e := range events {
		l := AuditLine{AuditEvent: auditEvent(e)}
		if e.UserID != "" {
			l.UserLogin = s.LoginOf(e.UserID)
		}
		if e.Actor.UserID != "" {
			l.ActorLogin = s.LoginOf(e.Actor.UserID)
		}
		out = append(out, l)
	}
	return out, next, nil
}
