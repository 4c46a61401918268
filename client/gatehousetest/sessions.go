package gatehousetest

import (
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/api"
)

// CLI sessions as the server keeps them: a password login (or a device
// grant polled with session=1) starts a session with a short access token
// and a refresh token; a refresh rotates the refresh token, a second use
// within the grace window gets the same answer, and a use after it
// revokes the whole session (reuse detection).

// Default session timings of the fake, those of the server.
const (
	DefaultAccessTTL    = 15 * time.Minute
	DefaultRefreshTTL   = 30 * 24 * time.Hour
	DefaultRefreshGrace = 30 * time.Second
)

// Session is a CLI session the fake knows.
type Session struct {
	ID        string
	User      string
	Scopes    []string
	ExpiresAt time.Time
	Revoked   bool
	// Reason is why it was revoked ("refresh token reuse", "revoked").
	Reason string
}

type user struct {
	password, totp string
}

// access is an access token of a session.
type access struct {
	sid       string
	expiresAt time.Time
}

// refreshRecord is a refresh token: unused, or used at usedAt with the
// answer it got, which a reuse within the grace window gets again.
type refreshRecord struct {
	sid    string
	usedAt time.Time
	answer *api.CLITokens
	issued time.Time
}

// now is the fake's clock: the wall clock unless SetNow stopped it.
func (s *Server) now() time.Time {
	if t := s.clock.Load(); t != nil {
		return *t
	}
	return time.Now()
}

// SetNow stops the fake's clock at t (access tokens, sessions, the grace
// window and PAT expiry all live by it).
func (s *Server) SetNow(t time.Time) { s.clock.Store(&t) }

// Advance moves the stopped clock on by d (stopping it at the wall
// clock's time first if it runs).
func (s *Server) Advance(d time.Duration) {
	t := s.now().Add(d)
	s.clock.Store(&t)
}

// SetAccessTTL sets the lifetime of new access tokens.
func (s *Server) SetAccessTTL(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accessTTL = d
}

// SetRefreshGrace sets the grace window of refresh token reuse.
func (s *Server) SetRefreshGrace(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.grace = d
}

// DisableDeviceSessions makes the fake a server too old for sessions
// from the device flow: a poll with session=1 still gets a PAT.
func (s *Server) DisableDeviceSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deviceSessions = false
}

// AddUser lets login sign in with password and, when totpCode is not
// empty, that one-time code (the fake accepts exactly that code).
func (s *Server) AddUser(login, password, totpCode string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[login] = &user{password: password, totp: totpCode}
}

// StartSession starts a session for user as a password login would.
func (s *Server) StartSession(login string) api.CLITokens {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.startSessionLocked(login).tokens
}

// Sessions returns copies of the sessions of user ("" for all).
func (s *Server) Sessions(login string) []Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Session
	for _, sess := range s.sessions {
		if login == "" || sess.User == login {
			out = append(out, *sess)
		}
	}
	return out
}

// RevokeSession revokes the session with that id, as an admin would.
func (s *Server) RevokeSession(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sess, ok := s.sessions[id]; ok {
		sess.Revoked, sess.Reason = true, "revoked"
	}
}

// Rotations is how many refreshes minted new tokens (a reuse within the
// grace window mints none).
func (s *Server) Rotations() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rotations
}

// RefreshCalls is how many requests reached the refresh endpoint.
func (s *Server) RefreshCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refreshCalls
}

// Logins is how many password logins succeeded.
func (s *Server) Logins() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins
}

// issued is a session's first tokens.
type issued struct {
	tokens api.CLITokens
	at     time.Time
}

func (i issued) deviceResponse(now time.Time) api.DeviceTokenResponse {
	return api.DeviceTokenResponse{
		AccessToken: i.tokens.AccessToken, TokenType: "Bearer", ExpiresIn: int64(i.tokens.ExpiresIn),
		Scope: i.tokens.Scope, RefreshToken: i.tokens.RefreshToken, RefreshExpiresIn: int64(i.tokens.RefreshExpiresIn),
		SessionID: i.tokens.SessionID,
	}
}

func (s *Server) startSessionLocked(login string) issued {
	s.seq++
	now := s.now()
	sess := &Session{ID: "ses_" + randomBase62(12), User: login, Scopes: []string{"wiki:read", "papers:read"}, ExpiresAt: now.Add(s.refreshTTL)}
	s.sessions[sess.ID] = sess
	return issued{tokens: s.mintLocked(sess, now), at: now}
}

// mintLocked makes a new access token and refresh token for sess.
func (s *Server) mintLocked(sess *Session, now time.Time) api.CLITokens {
	acc := "eyJ" + randomBase62(40)
	exp := now.Add(s.accessTTL)
	if sess.ExpiresAt.Before(exp) {
		exp = sess.ExpiresAt
	}
	s.access[acc] = &access{sid: sess.ID, expiresAt: exp}
	ref := "ghr_" + randomBase62(36)
	s.refresh[ref] = &refreshRecord{sid: sess.ID, issued: now}
	return api.CLITokens{
		AccessToken: acc, TokenType: "Bearer", ExpiresIn: int(exp.Sub(now) / time.Second),
		RefreshToken: ref, RefreshExpiresIn: int(sess.ExpiresAt.Sub(now) / time.Second),
		SessionID: sess.ID, Scope: strings.Join(sess.Scopes, " "),
	}
}

// sessionLogin answers POST /api/session as the server does: one answer
// for every wrong login, totp_required only after the right password.
func (s *Server) sessionLogin(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, api.Error{Error: "invalid_request", Message: "bad form"})
		return
	}
	login, pw, code := r.PostForm.Get(api.ParamLogin), r.PostForm.Get(api.ParamPassword), r.PostForm.Get(api.ParamTOTP)
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[login]
	fail := func(codeName, msg string) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse"`)
		writeJSON(w, http.StatusUnauthorized, api.Error{Error: codeName, Message: msg})
	}
	switch {
	case !ok || u.password != pw:
		fail(api.ErrorInvalidCredentials, "incorrect login, password or one-time code")
		return
	case u.totp != "" && code == "":
		fail(api.ErrorTOTPRequired, "this account needs its one-time code; send it as totp")
		return
	case u.totp != "" && code != u.totp:
		fail(api.ErrorInvalidCredentials, "incorrect login, password or one-time code")
		return
	case s.disabled[login]:
		writeJSON(w, http.StatusForbidden, api.Error{Error: "user_disabled", Message: "this account is disabled"})
		return
	}
	s.logins++
	writeJSON(w, http.StatusOK, s.startSessionLocked(login).tokens)
}

// refreshSession answers POST /api/refresh as the server does, grace
// window and reuse detection included.
func (s *Server) refreshSession(w http.ResponseWriter, r *http.Request) {
	grantErr := func(msg string) {
		writeJSON(w, http.StatusBadRequest, oauthError(api.ErrorInvalidGrant, msg))
	}
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, oauthError("invalid_request", "bad form"))
		return
	}
	if gt := r.PostForm.Get(api.ParamGrantType); gt != "" && gt != api.RefreshGrantType {
		writeJSON(w, http.StatusBadRequest, oauthError("unsupported_grant_type", "grant_type must be refresh_token"))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refreshCalls++
	rec, ok := s.refresh[r.PostForm.Get(api.ParamRefreshToken)]
	if !ok {
		grantErr("unknown refresh token")
		return
	}
	sess := s.sessions[rec.sid]
	now := s.now()
	switch {
	case sess.Revoked:
		grantErr("the session has been revoked; log in again")
		return
	case !now.Before(sess.ExpiresAt):
		grantErr("the session has expired; log in again")
		return
	case s.disabled[sess.User]:
		grantErr("user disabled")
		return
	}
	if !rec.usedAt.IsZero() {
		if now.Sub(rec.usedAt) <= s.grace && rec.answer != nil {
			again := *rec.answer
			again.ExpiresIn = max(0, int(s.access[again.AccessToken].expiresAt.Sub(now)/time.Second))
			again.RefreshExpiresIn = max(0, int(sess.ExpiresAt.Sub(now)/time.Second))
			writeJSON(w, http.StatusOK, again)
			return
		}
		sess.Revoked, sess.Reason = true, "refresh token reuse"
		grantErr("refresh token already used; the session has been revoked, log in again")
		return
	}
	answer := s.mintLocked(sess, now)
	rec.usedAt, rec.answer = now, &answer
	s.rotations++
	writeJSON(w, http.StatusOK, answer)
}

// sessionAuth checks an access token; ok is false when secret is not
// one. The answer is the denial's description, or "" with the session.
func (s *Server) sessionAuthLocked(secret string) (sess *Session, exp time.Time, denial string, ok bool) {
	a, ok := s.access[secret]
	if !ok {
		return nil, time.Time{}, "", false
	}
	sess = s.sessions[a.sid]
	switch {
	case sess.Revoked:
		return sess, a.expiresAt, "session revoked", true
	case !s.now().Before(a.expiresAt):
		return sess, a.expiresAt, "session expired", true
	case s.disabled[sess.User]:
		return sess, a.expiresAt, "user disabled", true
	}
	return sess, a.expiresAt, "", true
}
