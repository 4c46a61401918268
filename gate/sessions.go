package gate

import (
	"errors"
	"iter"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/decision"
	"github.com/gatehouse/gatehouse/internal/clock"
	"github.com/gatehouse/gatehouse/problem"
)

// Session cookie names. Over TLS the cookie is `__Host-` prefixed, which
// browsers accept only with Secure, Path=/ and no Domain, so a sibling
// subdomain or a plain-HTTP response cannot plant or overwrite it.
const (
	SessionCookie       = "gatehouse_session"
	SessionCookieSecure = "__Host-gatehouse_session"
)

// cookieName is the session cookie's name for the scheme the browser
// used (which a trusted proxy in front may have terminated).
func (g *Gate) cookieName(r *http.Request) string {
	if g.facts.IsHTTPS(r) {
		return SessionCookieSecure
	}
	return SessionCookie
}

func isSessionCookie(name string) bool {
	return name == SessionCookie || name == SessionCookieSecure
}

// CookieLife is how long a browser session's cookie (and its JWT) lives
// before it must be renewed: half the absolute session_ttl. A browser
// that comes back within that time gets a fresh cookie once half of it
// has passed (sliding renewal); one that stays away longer is signed out;
// none outlives session_ttl from login.
func (g *Gate) CookieLife() time.Duration { return g.policy.SessionTTL / 2 }

// sessionFromCookie authenticates r by its session cookie. No cookie is
// (nil, nil). A cookie that does not verify is a 401 that also clears the
// cookie, so a stale cookie costs one refused request, never a lock-out.
func (g *Gate) sessionFromCookie(r *http.Request) (*Identity, *problem.Problem) {
	var first *problem.Problem
	for v := range cookieValues(r, g.cookieName(r)) {
		id, d := g.verifySessionJWT(v, r, true)
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
func (g *Gate) verifySessionJWT(tok string, r *http.Request, fromCookie bool) (*Identity, *problem.Problem) {
	st, sess, u, err := g.store.VerifySessionJWT(tok, g.facts.ClientIP(r))
	if err != nil {
		d := sessionDenial(sess, err)
		if d.Status == http.StatusInternalServerError {
			g.logger.Error("verifying session", zap.Error(err))
		} else if fromCookie {
			d.Headers = http.Header{"Set-Cookie": {g.ExpiredCookie(r).String()}}
		}
		return nil, d
	}
	id := &Identity{
		Credential: decision.CredentialSession,
		User:       u,
		Session:    sess,
		Browser:    sess.Kind == authstore.SessionBrowser,
		Scopes:     decision.UserScopes(u, g.policy.Scopes),
		Tier:       u.Tier,
	}
	if fromCookie {
		id.Cookie = st
	}
	return id, nil
}

// sessionDenial answers a session that does not verify (problem.From,
// Session); a known session is named in the log by its id.
func sessionDenial(sess *authstore.Session, err error) *problem.Problem {
	d := problem.From(err, problem.Session)
	if sess != nil && !errors.Is(err, authstore.ErrUnknownToken) && !errors.Is(err, authstore.ErrMalformedToken) {
		d.Subject = sess.ID
	}
	return d
}

// SetSessionCookie sets the session cookie holding jwt until exp.
func (g *Gate) SetSessionCookie(w http.ResponseWriter, r *http.Request, jwt string, exp, now time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name: g.cookieName(r), Value: jwt, Path: "/",
		MaxAge:   max(1, int(exp.Sub(now)/time.Second)),
		HttpOnly: true, Secure: g.facts.IsHTTPS(r), SameSite: http.SameSiteLaxMode,
	})
}

// ExpiredCookie deletes the session cookie.
func (g *Gate) ExpiredCookie(r *http.Request) *http.Cookie {
	return &http.Cookie{
		Name: g.cookieName(r), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: g.facts.IsHTTPS(r), SameSite: http.SameSiteLaxMode,
	}
}

// renewSession re-issues a browser session's cookie once half its life
// has passed, never past the session's absolute expiry. It runs for every
// request that a session cookie authenticated; one whose JWT came as a
// Bearer header keeps that JWT.
func (g *Gate) renewSession(w http.ResponseWriter, r *http.Request, id *Identity) {
	if id == nil || id.Cookie == nil || id.Session == nil || !id.Browser {
		return
	}
	now := clock.Now()
	life := g.CookieLife()
	if now.Sub(id.Cookie.IssuedAt) < life/2 {
		return
	}
	sess := id.Session
	exp := now.Add(life)
	if sess.ExpiresAt.Before(exp) {
		exp = sess.ExpiresAt
	}
	if !exp.After(id.Cookie.ExpiresAt) {
		return // capped by the absolute lifetime: nothing to gain
	}
	jwt, err := g.store.IssueSessionJWT(sess, now, exp)
	if err != nil {
		g.logger.Error("renewing session", zap.String("session", sess.ID), zap.Error(err))
		return
	}
	g.SetSessionCookie(w, r, jwt, exp, now)
}

// StripCredentials removes the caller's secret before the request goes
// upstream: the Authorization header and both session cookie names,
// whether or not they verified (other cookies stay, byte for byte).
func StripCredentials(r *http.Request) {
	r.Header.Del("Authorization")
	if !HasSessionCookie(r) {
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

// HasSessionCookie reports whether r carries a session cookie of either
// name, valid or not (what matters for cross-site request forgery is that
// a browser attached it).
func HasSessionCookie(r *http.Request) bool {
	for _, name := range [...]string{SessionCookie, SessionCookieSecure} {
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
