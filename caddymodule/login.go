package caddymodule

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/gate"
	"github.com/gatehouse/gatehouse/problem"
)

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
	u, err := h.app.svc.CheckPassword(r.Context(), params.Get("login"), params.Get("password"), params.Get("totp"), clientIP(r))
	if d := problem.From(err, problem.API); d != nil {
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
