package endpoints

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/decision"
	"github.com/gatehouse/gatehouse/gate"
	"github.com/gatehouse/gatehouse/internal/reqbody"
	"github.com/gatehouse/gatehouse/problem"
)

// loginData is the login page's Data.
type loginData struct {
	Next  string
	Login string
	Error *message
	// Local shows the password form (local_login is on).
	Local bool
	// Providers are the "Sign in with …" buttons.
	Providers []providerButton
}

// loginPage is the login page with next, the form (when local login is
// on) and the providers' buttons.
func (s *Site) loginPage(next string) loginData {
	return loginData{Next: next, Local: !s.policy.LocalLoginOff, Providers: s.providerButtons(next)}
}

// serveLogin shows the login form (GET) and signs a browser in (POST):
// on success a new session, its cookie, and a 303 to `next` (a local path
// only: anything else goes to the PAT page, so the form cannot be used as
// an open redirect).
func (s *Site) serveLogin(w http.ResponseWriter, r *http.Request, id *decision.Identity) error {
	if r.Method != http.MethodPost {
		next := s.safeNext(r.URL.Query().Get("next"))
		if id.Browser {
			return redirect(w, r, next)
		}
		return s.render(w, r, id, page{name: "login", title: "login.title", narrow: true, data: s.loginPage(next)})
	}
	if d := gate.CrossOriginDenial(r); d != nil {
		return s.refuse(w, r, d, id)
	}
	params, d := reqbody.Params(r)
	if d != nil {
		return s.refuse(w, r, d, id)
	}
	next := s.safeNext(params.Get("next"))
	u, err := s.checkLoginForm(r, params)
	if d := problem.From(err, problem.API); d != nil && d.Reason == "totp_required" {
		// The right password, no code: a user with a passkey confirms
		// with it instead.
		if done, err := s.offerPasskeyStep(w, r, id, params.Get("login"), next); done || err != nil {
			return err
		}
		d = &problem.Problem{Status: http.StatusForbidden, Code: "invalid_credentials", Message: "incorrect login, password or one-time code", Reason: "login_failed"}
		err = d
	}
	if d := problem.From(err, problem.API); d != nil {
		s.denied(r, d, nil)
		for k, v := range d.Headers {
			w.Header()[k] = v
		}
		status := d.Status
		if status == http.StatusUnauthorized {
			// A form is not an HTTP authentication scheme: no challenge
			// to send, so not a 401.
			status = http.StatusForbidden
		}
		data := s.loginPage(next)
		data.Login, data.Error = loginEcho(params.Get("login")), loginMessage(d)
		return s.render(w, r, id, page{status: status, name: "login", title: "login.title", narrow: true, data: data})
	}
	if id.Session != nil && id.Browser {
		// The browser had a session already: end it rather than leave it
		// valid behind the new one.
		s.svc().ReplaceSession(id.User.ID, id.Session.ID, s.facts.ClientIP(r))
	}
	w.Header().Del("Set-Cookie")
	sess, err := s.startBrowserSession(w, r, u)
	if err != nil {
		s.logger.Error("starting session", zap.String("user", u.Login), zap.Error(err))
		return s.refuse(w, r, problem.Internal(), id)
	}
	s.logger.Info("login", zap.String("user", u.Login), zap.String("session", sess.ID),
		zap.String("kind", sess.Kind), zap.String("client_ip", s.facts.ClientIP(r)))
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
	case "local_login_off":
		return msg("login.local_off")
	}
	return msg("common.server_error")
}

// safeNext returns next if it is a local path (with query), else the PAT
// page: no scheme, no host, no protocol-relative or backslash tricks, no
// control characters.
func (s *Site) safeNext(next string) string {
	fallback := s.Path("pat")
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
	if strings.EqualFold(u.Path, s.Path("login")) || strings.EqualFold(u.Path, s.Path("logout")) {
		return fallback
	}
	return next
}

// serveLogout ends the caller's session at once and clears the cookie;
// with all=1 it ends every session of the user ("log out everywhere").
// A browser form gets a 303 to the login page, a script JSON.
func (s *Site) serveLogout(w http.ResponseWriter, r *http.Request, id *decision.Identity) error {
	params, d := reqbody.Params(r)
	if d != nil {
		return s.refuse(w, r, d, id)
	}
	n := 0
	if id.Session != nil {
		everywhere := slices.Contains([]string{"1", "true", "on"}, params.Get("all"))
		var err error
		if n, err = s.svc().EndSessions(id.User.ID, id.Session.ID, s.facts.ClientIP(r), everywhere); err != nil {
			s.logger.Error("logging out", zap.String("session", id.Session.ID), zap.Error(err))
			return s.refuse(w, r, problem.Internal(), id)
		}
		s.logger.Info("logout", zap.String("user", id.User.Login), zap.String("session", id.Session.ID), zap.Int("sessions_revoked", n))
	}
	w.Header().Del("Set-Cookie")
	http.SetCookie(w, s.gate.ExpiredCookie(r))
	if AcceptsHTML(r) {
		return redirect(w, r, s.Path("login"))
	}
	problem.WriteJSON(w, http.StatusOK, api.LogoutResponse{LoggedOut: true, SessionsRevoked: n})
	return nil
}
