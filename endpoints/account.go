package endpoints

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"image/png"
	"net/http"
	"net/url"
	"strconv"

	"github.com/pquerna/otp"
	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/decision"
	"github.com/gatehouse/gatehouse/internal/reqbody"
	"github.com/gatehouse/gatehouse/problem"
	"github.com/gatehouse/gatehouse/service"
)

// The account pages of any signed-in user: security (password, second
// factor) and sessions. Both are browser-session pages (endpointTable);
// their forms ride on the cookie and are protected against cross-origin
// posts by gate.Admit.

// securityData is the security page's Data.
type securityData struct {
	MinPassword  int
	HasPassword  bool
	TOTP         bool
	RecoveryLeft int
	// Enrol is a TOTP enrolment in progress: its QR code and seed.
	Enrol *enrolView
	// RecoveryCodes are shown in this one response and nowhere else.
	RecoveryCodes []string
	Passkeys      []authstore.Passkey
	Notice, Error *message
}

// enrolView is a TOTP enrolment as the page shows it.
type enrolView struct {
	QR     template.URL // a data: image of the otpauth:// URL
	Secret string
	URL    string
}

// serveAccount is the security page: GET shows it; POST acts (action =
// password | totp_begin | totp_confirm | totp_off) and shows the
// outcome.
func (s *Site) serveAccount(w http.ResponseWriter, r *http.Request, id *decision.Identity) error {
	svc := s.svc()
	u, err := svc.Store.User(id.User.ID)
	if err != nil {
		return err
	}
	if r.Method != http.MethodPost {
		data := s.securityData(svc, u)
		switch r.URL.Query().Get("done") {
		case "password":
			data.Notice = msg("account.password_changed", atoiOr(r.URL.Query().Get("ended"), 0))
		case "totp_off":
			data.Notice = msg("account.totp_disabled")
		case "passkey_added":
			data.Notice = msg("account.passkey_added")
		case "passkey_removed":
			data.Notice = msg("account.passkey_removed")
		case "passkey_unknown":
			data.Error = msg("account.passkey_unknown")
		}
		return s.renderSecurity(w, r, id, http.StatusOK, data)
	}
	params, d := reqbody.Params(r)
	if d != nil {
		return s.refuse(w, r, d, id)
	}
	ip := s.facts.ClientIP(r)
	switch params.Get("action") {
	case "password":
		n, err := svc.ChangePassword(r.Context(), u, service.PasswordChange{
			Current: params.Get("current"), New: params.Get("new"), Confirm: params.Get("confirm"),
			KeepSessions: params.Get("keep_sessions") != "", SessionID: id.Session.ID, IP: ip,
		})
		if err != nil {
			return s.accountRefused(w, r, id, svc, u, err)
		}
		s.logger.Info("password changed", zap.String("user", u.Login), zap.Int("sessions_revoked", n))
		return redirect(w, r, s.Path("account")+"?done=password&ended="+strconv.Itoa(n))
	case "totp_begin":
		if _, err := svc.BeginTOTP(u, ip); err != nil {
			return s.accountRefused(w, r, id, svc, u, err)
		}
		return redirect(w, r, s.Path("account"))
	case "totp_confirm":
		codes, err := svc.ConfirmTOTP(u, params.Get("code"), ip)
		if err != nil {
			return s.accountRefused(w, r, id, svc, u, err)
		}
		u, _ = svc.Store.User(u.ID)
		data := s.securityData(svc, u)
		data.RecoveryCodes, data.Notice = codes, msg("account.totp_enabled")
		return s.renderSecurity(w, r, id, http.StatusOK, data)
	case "totp_off":
		if err := svc.DisableOwnTOTP(u, params.Get("code"), ip); err != nil {
			return s.accountRefused(w, r, id, svc, u, err)
		}
		return redirect(w, r, s.Path("account")+"?done=totp_off")
	}
	data := s.securityData(svc, u)
	data.Error = msg("pat.err_action")
	return s.renderSecurity(w, r, id, http.StatusBadRequest, data)
}

func (s *Site) securityData(svc *service.Service, u *authstore.User) *securityData {
	data := &securityData{MinPassword: authstore.MinPasswordLen, HasPassword: u.PasswordHash != "",
		TOTP: u.TOTPSecret != "", RecoveryLeft: len(u.RecoveryCodes), Passkeys: u.Passkeys}
	if e, ok := svc.PendingTOTP(u); ok && !data.TOTP {
		data.Enrol = enrolment(e.URL)
	}
	return data
}

func (s *Site) renderSecurity(w http.ResponseWriter, r *http.Request, id *decision.Identity, status int, data *securityData) error {
	return s.render(w, r, id, page{status: status, name: "account", title: "account.title", data: data})
}

// accountRefused shows the security page again with what was wrong.
func (s *Site) accountRefused(w http.ResponseWriter, r *http.Request, id *decision.Identity, svc *service.Service, u *authstore.User, err error) error {
	d := problem.From(err, problem.API)
	if d.Status >= 500 && d.Reason != "server_busy" {
		s.logger.Error("account change", zap.String("user", u.Login), zap.Error(err))
	}
	s.denied(r, d, id)
	for k, v := range d.Headers {
		w.Header()[k] = v
	}
	if fresh, ferr := svc.Store.User(u.ID); ferr == nil {
		u = fresh
	}
	data := s.securityData(svc, u)
	data.Error = accountMessage(d)
	return s.renderSecurity(w, r, id, d.Status, data)
}

// accountMessage is the page's words for an account refusal.
func accountMessage(d *problem.Problem) *message {
	switch d.Reason {
	case service.AccountWrongPassword:
		return msg("account.err_current")
	case service.AccountBadPassword:
		return msg("setup.err_password", authstore.MinPasswordLen)
	case service.AccountMismatch:
		return msg("setup.err_mismatch")
	case service.AccountWrongCode:
		return msg("account.err_code")
	case service.AccountTOTPOn:
		return msg("account.err_totp_on")
	case service.AccountTOTPOff:
		return msg("account.err_totp_off")
	case service.AccountNotYours:
		return msg("sessions.err_unknown")
	}
	return loginMessage(d)
}

// enrolment draws the otpauth:// URL as a QR code, inline as a data:
// image (the pages' CSP allows img-src data:), so the seed never leaves
// this response for an image endpoint or a third-party QR service.
func enrolment(rawURL string) *enrolView {
	v := &enrolView{URL: rawURL}
	if u, err := url.Parse(rawURL); err == nil {
		v.Secret = u.Query().Get("secret")
	}
	key, err := otp.NewKeyFromURL(rawURL)
	if err != nil {
		return v
	}
	img, err := key.Image(200, 200)
	if err != nil {
		return v
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return v
	}
	v.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())) // our own PNG
	return v
}

func atoiOr(s string, def int) int {
	if n, err := strconv.Atoi(s); err == nil && n >= 0 {
		return n
	}
	return def
}

// sessionsData is the sessions page's Data.
type sessionsData struct {
	Current       string
	Sessions      []api.SessionInfo
	Notice, Error *message
}

// serveAccountSessions lists the user's browser and CLI sessions, this
// one marked; POST action=revoke (session_id) ends one, action=others
// ends all but this one. Ending this one is signing out.
func (s *Site) serveAccountSessions(w http.ResponseWriter, r *http.Request, id *decision.Identity) error {
	svc := s.svc()
	data := &sessionsData{Current: id.Session.ID}
	status := http.StatusOK
	if r.Method == http.MethodPost {
		params, d := reqbody.Params(r)
		if d != nil {
			return s.refuse(w, r, d, id)
		}
		ip := s.facts.ClientIP(r)
		switch params.Get("action") {
		case "revoke":
			sid := params.Get("session_id")
			if err := svc.EndOwnSession(id.User, sid, ip); err != nil {
				d := problem.From(err, problem.API)
				s.denied(r, d, id)
				data.Error, status = accountMessage(d), d.Status
				break
			}
			if sid == id.Session.ID {
				w.Header().Del("Set-Cookie")
				http.SetCookie(w, s.gate.ExpiredCookie(r))
				return redirect(w, r, s.Path("login"))
			}
			return redirect(w, r, s.Path("account_sessions")+"?done=1&ended=1")
		case "others":
			n, err := svc.EndOtherSessions(id.User, id.Session.ID, ip)
			if err != nil {
				return fmt.Errorf("ending other sessions: %w", err)
			}
			return redirect(w, r, s.Path("account_sessions")+"?done=1&ended="+strconv.Itoa(n))
		default:
			data.Error, status = msg("pat.err_action"), http.StatusBadRequest
		}
	} else if r.URL.Query().Get("done") != "" {
		data.Notice = msg("sessions.ended", atoiOr(r.URL.Query().Get("ended"), 0))
	}
	list, err := svc.OwnSessions(id.User)
	if err != nil {
		return err
	}
	data.Sessions = list
	return s.render(w, r, id, page{status: status, name: "sessions", title: "sessions.title", data: data})
}
