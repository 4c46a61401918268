package caddymodule

import (
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/internal/clock"
)

// Browser sessions are verified and renewed by package gate; this file
// starts them.

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
	life := a.gate.CookieLife()
	jwt, err := a.store.IssueSessionJWT(sess, now, now.Add(life))
	if err != nil {
		return nil, err
	}
	a.gate.SetSessionCookie(w, r, jwt, earliest(now.Add(life), sess.ExpiresAt), now)
	return sess, nil
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
