package caddymodule

import (
	"errors"
	"iter"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/internal/clock"
	"github.com/gatehouse/gatehouse/problem"
)

// Session cookie names. Over TLS the cookie is `__Host-` prefixed, which
// browsers accept only with Secure, Path=/ and no Domain, so a sibling
// subdomain or a plain-HTTP response cannot plant or overwrite it.
const (
	sessionCookie       = "gatehouse_session"
	sessionCookieSecure = "__Host-gatehouse_session"
)

// cookieName is the session cookie's name for the scheme the browser
// used (which a trusted proxy in front may have terminated).
func cookieName(r *http.Request) string {
	if isHTTPS(r) {
		return sessionCookieSecure
	}
	return sessionCookie
}

func isSessionCookie(name string) bool {
	return name == sessionCookie || name == sessionCookieSecure
}

// cookieLife is how long a browser session's cookie (and its JWT) lives
// before it must be renewed: half the absolute session_ttl. A browser
// that comes back within that time gets a fresh cookie once half of it
// has passed (sliding renewal); one that stays away longer is signed out;
// none outlives session_ttl from login.
func (a *App) cookieLife() time.Duration { return a.policy.SessionTTL / 2 }

// sessionFromCookie authenticates r by its session cookie. No cookie is
// (nil, nil). A cookie that does not verify is a 401 that also clears the
// cookie, so a stale cookie costs one refused request, never a lock-out.
func (a *App) sessionFromCookie(r *http.Request) (*Identity, *problem.Problem) {
	var first *problem.Problem
	for v := range cookieValues(r, cookieName(r)) {
		id, d := a.verifySessionJWT(v, r, true)
		if d == nil {
			return id, nil
		}
		if first == nil {
			first = d
		}
	}
	return nil, first
}

// verifySessionJWT checks a session JWT from the cookie or a Bearer header
// and builds its identity: the session's user with every scope the user
// holds. Browser sessions are Browser (whichever way the JWT came); CLI
// access tokens are not.
func (a *App) verifySessionJWT(tok string, r *http.Request, fromCookie bool) (*Identity, *problem.Problem) {
	st, sess, u, err := a.store.VerifySessionJWT(tok, clientIP(r))
	if err != nil {
		d := sessionDenial(sess, err)
		if d.Status == http.StatusInternalServerError {
			a.logger.Error("verifying session", zap.Error(err))
		} else if fromCookie {
			d.Headers = http.Header{"Set-Cookie": {expiredCookie(r).String()}}
		}
		return nil, d
	}
	id := &Identity{
		Credential: CredentialSession,
		User:       u,
		Session:    sess,
		Browser:    sess.Kind == authstore.SessionBrowser,
		Scopes:     a.userScopes(u),
		Tier:       u.Tier,
	}
	if fromCookie {
		id.Cookie = st
	}
	return id, nil
}

func sessionDenial(sess *authstore.Session, err error) *problem.Problem {
	subject := ""
	if sess != nil {
		subject = sess.ID
	}
	switch {
	case errors.Is(err, authstore.ErrExpired):
		return problem.InvalidToken("session_expired", "session expired", subject)
	case errors.Is(err, authstore.ErrRevoked):
		return problem.InvalidToken("session_revoked", "session revoked", subject)
	case errors.Is(err, authstore.ErrUserDisabled):
		return problem.InvalidToken("user_disabled", "user disabled", subject)
	case errors.Is(err, authstore.ErrUnknownToken):
		return problem.InvalidToken("session_unknown", "unknown session", "")
	case errors.Is(err, authstore.ErrMalformedToken):
		return problem.InvalidToken("malformed_token", "malformed token", "")
	}
	return problem.Internal()
}

// startBrowserSession records a browser login and sets its cookie. Every
// login gets a new session id (no fixation).
func (h *Handler) startBrowserSession(w http.ResponseWriter, r *http.Request, u *authstore.User) (*authstore.Session, error) {
	a := h.app
	sess, err := a.store.CreateSession(authstore.NewSession{
		UserID: u.ID, Kind: authstore.SessionBrowser, TTL: a.policy.SessionTTL,
		IP: clientIP(r), UserAgent: r.UserAgent(),
	}, authstore.Actor{Kind: "user", UserID: u.ID, IP: clientIP(r)})
	if err != nil {
		return nil, err
	}
	now := clock.Now()
	jwt, err := a.store.IssueSessionJWT(sess, now, now.Add(a.cookieLife()))
	if err != nil {
		return nil, err
	}
	setSessionCookie(w, r, jwt, earliest(now.Add(a.cookieLife()), sess.ExpiresAt), now)
	return sess, nil
}

func setSessionCookie(w http.ResponseWriter, r *http.Request, jwt string, exp, now time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName(r), Value: jwt, Path: "/",
		MaxAge:   max(1, int(exp.Sub(now)/time.Second)),
		HttpOnly: true, Secure: isHTTPS(r), SameSite: http.SameSiteLaxMode,
	})
}

// expiredCookie deletes the session cookie.
func expiredCookie(r *http.Request) *http.Cookie {
	return &http.Cookie{
		Name: cookieName(r), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: isHTTPS(r), SameSite: http.SameSiteLaxMode,
	}
}

// renewSession re-issues a browser session's cookie once half its life
// has passed, never past the session's absolute expiry. It runs for every
// request that a session cookie authenticated; one whose JWT came as a
// Bearer header keeps that JWT.
func (a *App) renewSession(w http.ResponseWriter, r *http.Request, id *Identity) {
	if id == nil || id.Cookie == nil || id.Session == nil || !id.Browser {
		return
	}
	now := clock.Now()
	life := a.cookieLife()
	if now.Sub(id.Cookie.IssuedAt) < life/2 {
		return
	}
	sess := id.Session
	exp := earliest(now.Add(life), sess.ExpiresAt)
	if !exp.After(id.Cookie.ExpiresAt) {
		return // capped by the absolute lifetime: nothing to gain
	}
	jwt, err := a.store.IssueSessionJWT(sess, now, exp)
	if err != nil {
		a.logger.Error("renewing session", zap.String("session", sess.ID), zap.Error(err))
		return
	}
	setSessionCookie(w, r, jwt, exp, now)
}

// stripCredentials removes the caller's secret before the request goes
// upstream: the Authorization header and both session cookie names,
// whether or not they verified (other cookies stay, byte for byte).
func stripCredentials(r *http.Request) {
	r.Header.Del("Authorization")
	if !hasSessionCookie(r) {
		return
	}
	var kept []string
	for _, line := range r.Header.Values("Cookie") {
		for part := range strings.SplitSeq(line, ";") {
			name, _, _ := strings.Cut(strings.TrimSpace(part), "=")
			if isSessionCookie(strings.TrimSpace(name)) {
				continue
			}
			if p := strings.TrimSpace(part); p != "" {
				kept = append(kept, p)
			}
		}
	}
	if len(kept) == 0 {
		r.Header.Del("Cookie")
		return
	}
	r.Header.Set("Cookie", strings.Join(kept, "; "))
}

// hasSessionCookie reports whether r carries a session cookie of either
// name, valid or not (what matters for cross-site request forgery is that
// a browser attached it).
func hasSessionCookie(r *http.Request) bool {
	for _, name := range [...]string{sessionCookie, sessionCookieSecure} {
		for range cookieValues(r, name) {
			return true
		}
	}
	return false
}

// cookieValues yields the values of the cookies named name, in order,
// without parsing or allocating for the others (this runs on every
// request that has no Authorization header).
func cookieValues(r *http.Request, name string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for _, line := range r.Header["Cookie"] {
			for line != "" {
				var part string
				part, line, _ = strings.Cut(line, ";")
				n, v, ok := strings.Cut(strings.TrimSpace(part), "=")
				if !ok || strings.TrimSpace(n) != name {
					continue
				}
				v = strings.TrimSpace(v)
				if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
					v = v[1 : len(v)-1]
				}
				if !yield(v) {
					return
				}
			}
		}
	}
}

// startSessions runs when the app starts: it computes the fake password
// hash that unknown logins are checked against (so the first such login
// is not faster than later ones) and offers first-admin setup.
func (a *App) startSessions() error {
	go authstore.WarmPasswordCheck()
	return a.offerSetup()
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
