package caddymodule

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/authstore"
)

// Session cookie names. Over TLS the cookie is `__Host-` prefixed, which
// browsers accept only with Secure, Path=/ and no Domain, so a sibling
// subdomain or a plain-HTTP response cannot plant or overwrite it.
const (
	sessionCookie       = "gatehouse_session"
	sessionCookieSecure = "__Host-gatehouse_session"
)

// cookieName is the session cookie's name for r's scheme.
func cookieName(r *http.Request) string {
	if r.TLS != nil {
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
func (a *App) sessionFromCookie(r *http.Request) (*Identity, *denial) {
	var first *denial
	for _, c := range r.CookiesNamed(cookieName(r)) {
		id, d := a.verifySessionJWT(c.Value, r, true)
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
func (a *App) verifySessionJWT(tok string, r *http.Request, fromCookie bool) (*Identity, *denial) {
	_, sess, u, err := a.store.VerifySessionJWT(tok, clientIP(r))
	if err != nil {
		d := sessionDenial(sess, err)
		if d.status == http.StatusInternalServerError {
			a.logger.Error("verifying session", zap.Error(err))
		} else if fromCookie {
			d.headers = http.Header{"Set-Cookie": {expiredCookie(r).String()}}
		}
		return nil, d
	}
	return &Identity{
		Credential: CredentialSession,
		User:       u,
		Session:    sess,
		Browser:    sess.Kind == authstore.SessionBrowser,
		Scopes:     a.userScopes(u),
		Tier:       u.Tier,
	}, nil
}

func sessionDenial(sess *authstore.Session, err error) *denial {
	subject := ""
	if sess != nil {
		subject = sess.ID
	}
	switch {
	case errors.Is(err, authstore.ErrExpired):
		return invalidToken("session_expired", "session expired", subject)
	case errors.Is(err, authstore.ErrRevoked):
		return invalidToken("session_revoked", "session revoked", subject)
	case errors.Is(err, authstore.ErrUserDisabled):
		return invalidToken("user_disabled", "user disabled", subject)
	case errors.Is(err, authstore.ErrUnknownToken):
		return invalidToken("session_unknown", "unknown session", "")
	case errors.Is(err, authstore.ErrMalformedToken):
		return invalidToken("malformed_token", "malformed token", "")
	}
	return internalError()
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
	now := time.Now()
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
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode,
	})
}

// expiredCookie deletes the session cookie.
func expiredCookie(r *http.Request) *http.Cookie {
	return &http.Cookie{
		Name: cookieName(r), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode,
	}
}

// renewSession re-issues a browser session's cookie once half its life
// has passed, never past the session's absolute expiry. It runs for every
// request that a session cookie authenticated; one whose JWT came as a
// Bearer header keeps that JWT.
func (a *App) renewSession(w http.ResponseWriter, r *http.Request, id *Identity) {
	if id == nil || id.Session == nil || !id.Browser || r.Header.Get("Authorization") != "" {
		return
	}
	for _, c := range r.CookiesNamed(cookieName(r)) {
		st, sess, _, err := a.store.VerifySessionJWT(c.Value, "")
		if err != nil || sess.ID != id.Session.ID {
			continue
		}
		now := time.Now()
		life := a.cookieLife()
		if now.Sub(st.IssuedAt) < life/2 {
			return
		}
		exp := earliest(now.Add(life), sess.ExpiresAt)
		if !exp.After(st.ExpiresAt) {
			return // capped by the absolute lifetime: nothing to gain
		}
		jwt, err := a.store.IssueSessionJWT(sess, now, exp)
		if err != nil {
			a.logger.Error("renewing session", zap.String("session", sess.ID), zap.Error(err))
			return
		}
		setSessionCookie(w, r, jwt, exp, now)
		return
	}
}

// stripCredentials removes the caller's secret before the request goes
// upstream: the Authorization header and the session cookie (other
// cookies stay, byte for byte).
func (a *App) stripCredentials(r *http.Request) {
	r.Header.Del("Authorization")
	vals := r.Header.Values("Cookie")
	if len(vals) == 0 {
		return
	}
	var kept []string
	for _, line := range vals {
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

// hasSessionCookie reports whether r carries a session cookie, valid or
// not (what matters for cross-site request forgery is that a browser
// attached it).
func hasSessionCookie(r *http.Request) bool {
	for _, line := range r.Header.Values("Cookie") {
		if strings.Contains(line, sessionCookie) {
			for part := range strings.SplitSeq(line, ";") {
				name, _, _ := strings.Cut(strings.TrimSpace(part), "=")
				if isSessionCookie(strings.TrimSpace(name)) {
					return true
				}
			}
		}
	}
	return false
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
