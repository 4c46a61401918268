package caddymodule

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/gate"
	"github.com/gatehouse/gatehouse/internal/clock"
	"github.com/gatehouse/gatehouse/problem"
)

func init() {
	registerEndpoint(&endpoint{
		name: "login", path: api.PathLogin, methods: []string{http.MethodGet, http.MethodHead, http.MethodPost},
		access: accessNone, serve: (*Handler).serveLogin,
	})
	registerEndpoint(&endpoint{
		name: "logout", path: api.PathLogout, methods: []string{http.MethodPost},
		access: accessNone, serve: (*Handler).serveLogout,
	})
}

// loginData is the login page's Data.
type loginData struct {
	Next  string
	Login string
	Error *message
}

// serveLogin shows the login form (GET) and signs a browser in (POST):
// on success a new session, its cookie, and a 303 to `next` (a local path
// only: anything else goes to the PAT page, so the form cannot be used as
// an open redirect).
func (h *Handler) serveLogin(w http.ResponseWriter, r *http.Request, id *Identity) error {
	if r.Method != http.MethodPost {
		next := h.safeNext(r.URL.Query().Get("next"))
		if id.Browser {
			return redirect(w, r, next)
		}
		return h.render(w, r, id, page{name: "login", title: "login.title", narrow: true, data: loginData{Next: next}})
	}
	if d := gate.CrossOriginDenial(r); d != nil {
		return h.refuse(w, r, d, id, -1)
	}
	params, d := readParams(r)
	if d != nil {
		return h.refuse(w, r, d, id, -1)
	}
	next := h.safeNext(params.Get("next"))
	u, d := h.checkPassword(r, params.Get("login"), params.Get("password"), params.Get("totp"))
	if d != nil {
		logDenial(h.logger, r, d, nil, -1)
		countDecision(d)
		for k, v := range d.Headers {
			w.Header()[k] = v
		}
		status := d.Status
		if status == http.StatusUnauthorized {
			// A form is not an HTTP authentication scheme: no challenge
			// to send, so not a 401.
			status = http.StatusForbidden
		}
		return h.render(w, r, id, page{status: status, name: "login", title: "login.title", narrow: true,
			data: loginData{Next: next, Login: loginEcho(params.Get("login")), Error: loginMessage(d)}})
	}
	if id.Session != nil && id.Browser {
		// The browser had a session already: end it rather than leave it
		// valid behind the new one.
		_, _ = h.app.store.RevokeSession(id.Session.ID, authstore.UserActor(id.User.ID, clientIP(r)), "replaced by a new login")
	}
	w.Header().Del("Set-Cookie")
	sess, err := h.startBrowserSession(w, r, u)
	if err != nil {
		h.logger.Error("starting session", zap.String("user", u.Login), zap.Error(err))
		return h.refuse(w, r, problem.Internal(), id, -1)
	}
	h.logger.Info("login", zap.String("user", u.Login), zap.String("session", sess.ID),
		zap.String("kind", sess.Kind), zap.String("client_ip", clientIP(r)))
	return redirect(w, r, next)
}

// loginEcho is the login shown back in the form after a failure: only a
// well-formed login, so a password typed into the wrong field is not
// echoed into the page.
func loginEcho(login string) string {
	if l, err := authstore.NormalizeLogin(login); err == nil {
		return l
	}
	return ""
}

func loginMessage(d *problem.Problem) *message {
	switch d.Reason {
	case "login_throttled":
		secs, _ := strconv.Atoi(d.Headers.Get("Retry-After"))
		return msg("common.throttled", secs)
	case "user_disabled":
		return msg("login.disabled")
	case "login_failed":
		return msg("login.failed")
	case "server_busy":
		return msg("login.busy")
	}
	return msg("common.server_error")
}

// checkPassword checks a login attempt (password form, CLI login) behind
// the backoff: a locked key (the account from this client IP, the IP, or
// the account from anywhere) is refused with 429 before any hashing, and
// the attempt is counted as a failure of each before the hash (see
// backoff.begin), so a burst of guesses cannot slip past the lock. Every
// failure has the same message; the TOTP code is checked in the same
// attempt, so guessing codes costs the same. A busy server (the hash
// queue is full) answers 503 and counts nothing.
func (h *Handler) checkPassword(r *http.Request, login, password, code string) (*authstore.User, *problem.Problem) {
	ip := clientIP(r)
	at, wait := h.app.logins.beginLogin(clock.Now(), newLoginKeys(login, ip))
	if at == nil {
		return nil, throttled(wait)
	}
	u, err := h.app.store.CheckLogin(r.Context(), login, password, code, ip)
	switch {
	case err == nil:
		at.succeeded()
		return u, nil
	case errors.Is(err, authstore.ErrBadCredentials):
		// Already counted by begin.
		return nil, &problem.Problem{Status: http.StatusUnauthorized, Code: "invalid_credentials",
			Message: authstore.ErrBadCredentials.Error(), Reason: "login_failed", Challenge: problem.Bare}
	}
	// Right credentials for a disabled account, or no check at all: not a
	// failure to count.
	at.refundAll()
	switch {
	case errors.Is(err, authstore.ErrUserDisabled):
		return nil, &problem.Problem{Status: http.StatusForbidden, Code: "user_disabled", Message: "this account is disabled",
			Reason: "user_disabled", Subject: u.ID}
	case errors.Is(err, authstore.ErrBusy), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return nil, problem.Busy()
	}
	h.logger.Error("checking login", zap.Error(err))
	return nil, problem.Internal()
}

// newLoginKeys are the backoff keys of a login typed as login from client IP
// ip (Caddy's client IP, which honours trusted_proxies).
func newLoginKeys(login, ip string) loginKeys {
	acct := strings.ToLower(strings.TrimSpace(login))
	ip = gate.ClientKey(ip) // an IPv6 client holds its whole /64
	return loginKeys{
		accountIP: backoffKey("login-ip", acct+"\x00"+ip),
		ip:        backoffKey("ip", ip),
		account:   backoffKey("login", acct),
	}
}

// backoffKey names a counter of the store's backoff. The typed login is
// hashed: people type passwords into login fields, and the counters live
// a day.
func backoffKey(kind, value string) string {
	sum := sha256.Sum256([]byte(value))
	return kind + "|" + hex.EncodeToString(sum[:12])
}

func throttled(wait time.Duration) *problem.Problem {
	secs := int(math.Ceil(wait.Seconds()))
	return &problem.Problem{
		Status: http.StatusTooManyRequests, Code: "too_many_attempts",
		Message: fmt.Sprintf("too many failed logins; try again in %d seconds", secs),
		Reason:  "login_throttled", Headers: http.Header{"Retry-After": {strconv.Itoa(secs)}},
	}
}

// safeNext returns next if it is a local path (with query), else the PAT
// page: no scheme, no host, no protocol-relative or backslash tricks, no
// control characters.
func (h *Handler) safeNext(next string) string {
	fallback := h.Endpoints.Path("pat")
	if next == "" || len(next) > 2048 || next[0] != '/' || strings.HasPrefix(next, "//") ||
		strings.ContainsAny(next, "\\\x00\r\n\t") {
		return fallback
	}
	for i := 0; i < len(next); i++ {
		if next[i] < 0x20 || next[i] == 0x7f {
			return fallback
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return fallback
	}
	if strings.EqualFold(u.Path, h.Endpoints.Path("login")) || strings.EqualFold(u.Path, h.Endpoints.Path("logout")) {
		return fallback
	}
	return next
}

// serveLogout ends the caller's session at once and clears the cookie;
// with all=1 it ends every session of the user ("log out everywhere").
// A browser form gets a 303 to the login page, a script JSON.
func (h *Handler) serveLogout(w http.ResponseWriter, r *http.Request, id *Identity) error {
	params, d := readParams(r)
	if d != nil {
		return h.refuse(w, r, d, id, -1)
	}
	n := 0
	if id.Session != nil {
		actor := authstore.UserActor(id.User.ID, clientIP(r))
		var err error
		switch params.Get("all") {
		case "1", "true", "on":
			n, err = h.app.store.RevokeUserSessions(id.User.ID, actor, "log out everywhere")
		default:
			_, err = h.app.store.RevokeSession(id.Session.ID, actor, "logout")
			n = 1
		}
		if err != nil {
			h.logger.Error("logging out", zap.String("session", id.Session.ID), zap.Error(err))
			return h.refuse(w, r, problem.Internal(), id, -1)
		}
		h.logger.Info("logout", zap.String("user", id.User.Login), zap.String("session", id.Session.ID), zap.Int("sessions_revoked", n))
	}
	w.Header().Del("Set-Cookie")
	http.SetCookie(w, h.app.gate.ExpiredCookie(r))
	if acceptsHTML(r) {
		return redirect(w, r, h.Endpoints.Path("login"))
	}
	problem.WriteJSON(w, http.StatusOK, api.LogoutResponse{LoggedOut: true, SessionsRevoked: n})
	return nil
}
