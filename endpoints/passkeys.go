package endpoints

import (
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/decision"
	"github.com/gatehouse/gatehouse/gate"
	"github.com/gatehouse/gatehouse/internal/reqbody"
	"github.com/gatehouse/gatehouse/problem"
	"github.com/gatehouse/gatehouse/service"
)

// Passkeys: the security page's scripts call these with fetch (JSON in,
// JSON out); removal is a form. The ceremonies are service's.

// passkeyCookie binds a passkey sign-in's challenge to the browser that
// asked for it.
const passkeyCookie = "gatehouse_passkey"

// relyingParty is the site's passkey relying party: as configured, or
// the address the browser used.
func (s *Site) relyingParty(r *http.Request) (service.RelyingParty, error) {
	if s.passkeyRPID != "" {
		return service.RelyingParty{ID: s.passkeyRPID, Origins: s.passkeyOrigins, Name: s.policy.Realm}, nil
	}
	return service.RelyingPartyFor(s.facts.ExternalBase(r), s.policy.Realm)
}

// servePasskeys registers (?op=begin, then ?op=finish with the
// authenticator's answer) and removes (form action=remove, id) the
// signed-in user's passkeys. A ceremony is bound to the browser session
// that began it.
func (s *Site) servePasskeys(w http.ResponseWriter, r *http.Request, id *decision.Identity) error {
	svc := s.svc()
	ip := s.facts.ClientIP(r)
	switch r.URL.Query().Get("op") {
	case "begin":
		var req struct {
			Name string `json:"name"`
		}
		if d := reqbody.DecodeJSON(r, &req); d != nil {
			return s.refuse(w, r, d, id)
		}
		rp, err := s.relyingParty(r)
		if err != nil {
			return err
		}
		u, err := svc.Store.User(id.User.ID)
		if err != nil {
			return err
		}
		opts, err := svc.BeginPasskeyRegistration(&s.ceremonies, rp, u, id.Session.ID, req.Name)
		if err != nil {
			return s.refuse(w, r, problem.From(err, problem.API), id)
		}
		problem.WriteJSON(w, http.StatusOK, opts)
		return nil
	case "finish":
		u, err := svc.Store.User(id.User.ID)
		if err != nil {
			return err
		}
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		pk, err := svc.FinishPasskeyRegistration(&s.ceremonies, u, id.Session.ID, ip, r)
		if err != nil {
			return s.refuse(w, r, problem.From(err, problem.API), id)
		}
		problem.WriteJSON(w, http.StatusCreated, map[string]string{"id": pk.ID, "name": pk.Name})
		return nil
	}
	params, d := reqbody.Params(r)
	if d != nil {
		return s.refuse(w, r, d, id)
	}
	if params.Get("action") != "remove" {
		return s.refuse(w, r, problem.Invalid("bad_action", "want ?op=begin, ?op=finish or action=remove"), id)
	}
	if err := svc.RemovePasskey(id.User, params.Get("id"), ip); err != nil {
		dd := problem.From(err, problem.API)
		s.denied(r, dd, id)
		return redirect(w, r, s.Path("account")+"?done=passkey_unknown")
	}
	return redirect(w, r, s.Path("account")+"?done=passkey_removed")
}

// servePasskeyLogin signs a browser in with a discoverable passkey: no
// login typed. ?op=begin sets a cookie binding the challenge to this
// browser; ?op=finish verifies the answer, spends the challenge, and
// starts a session as a password login does.
func (s *Site) servePasskeyLogin(w http.ResponseWriter, r *http.Request, id *decision.Identity) error {
	if d := gate.CrossOriginDenial(r); d != nil {
		return s.refuse(w, r, d, id)
	}
	svc := s.svc()
	ip := s.facts.ClientIP(r)
	switch r.URL.Query().Get("op") {
	case "begin":
		rp, err := s.relyingParty(r)
		if err != nil {
			return err
		}
		opts, key, err := svc.BeginPasskeyLogin(&s.ceremonies, rp)
		if err != nil {
			return err
		}
		http.SetCookie(w, &http.Cookie{Name: passkeyCookie, Value: key, Path: s.Path("passkey_login"), MaxAge: int((5 * time.Minute).Seconds()),
			HttpOnly: true, Secure: s.facts.IsHTTPS(r), SameSite: http.SameSiteStrictMode})
		problem.WriteJSON(w, http.StatusOK, opts)
		return nil
	case "finish", "second":
		c, err := r.Cookie(passkeyCookie)
		key := ""
		if err == nil {
			key = c.Value
		}
		http.SetCookie(w, &http.Cookie{Name: passkeyCookie, Value: "", Path: s.Path("passkey_login"), MaxAge: -1,
			HttpOnly: true, Secure: s.facts.IsHTTPS(r), SameSite: http.SameSiteStrictMode})
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		finish := svc.FinishPasskeyLogin
		if r.URL.Query().Get("op") == "second" {
			finish = svc.FinishPasskeySecondFactor
		}
		u, err := finish(&s.ceremonies, key, ip, r)
		if err != nil {
			return s.refuse(w, r, problem.From(err, problem.API), id)
		}
		if id.Session != nil && id.Browser {
			svc.ReplaceSession(id.User.ID, id.Session.ID, ip)
		}
		sess, err := s.startBrowserSession(w, r, u)
		if err != nil {
			return err
		}
		s.logger.Info("login", zap.String("user", u.Login), zap.String("session", sess.ID), zap.String("method", "passkey"),
			zap.String("client_ip", ip))
		next := s.safeNext(r.URL.Query().Get("next"))
		problem.WriteJSON(w, http.StatusOK, map[string]string{"next": next})
		return nil
	}
	return s.refuse(w, r, problem.Invalid("bad_op", "want ?op=begin, ?op=finish or ?op=second"), id)
}

// checkLoginForm checks the login form's password and code; without a
// code it asks for one (service.CheckPasswordAskingCode), so that a user
// whose password was right can be offered the passkey step.
func (s *Site) checkLoginForm(r *http.Request, params url.Values) (*authstore.User, error) {
	svc, ip := s.svc(), s.facts.ClientIP(r)
	if params.Get("totp") == "" {
		return svc.CheckPasswordAskingCode(r.Context(), params.Get("login"), params.Get("password"), ip)
	}
	return svc.CheckPassword(r.Context(), params.Get("login"), params.Get("password"), params.Get("totp"), ip)
}

// passkeyStepData is the Data of the page that asks for the passkey
// after a password.
type passkeyStepData struct {
	Options string // the assertion options, JSON
	Next    string
}

// offerPasskeyStep shows the passkey step of a password login of login,
// if that user has a passkey; done is false (and nothing written) if not.
func (s *Site) offerPasskeyStep(w http.ResponseWriter, r *http.Request, id *decision.Identity, login, next string) (bool, error) {
	svc := s.svc()
	u, err := svc.Store.UserByLogin(login)
	if err != nil || len(u.Passkeys) == 0 {
		return false, nil
	}
	rp, err := s.relyingParty(r)
	if err != nil {
		return false, nil
	}
	opts, key, err := svc.BeginPasskeySecondFactor(&s.ceremonies, rp, u)
	if err != nil {
		return true, err
	}
	raw, err := json.Marshal(opts)
	if err != nil {
		return true, err
	}
	http.SetCookie(w, &http.Cookie{Name: passkeyCookie, Value: key, Path: s.Path("passkey_login"), MaxAge: int((5 * time.Minute).Seconds()),
		HttpOnly: true, Secure: s.facts.IsHTTPS(r), SameSite: http.SameSiteStrictMode})
	return true, s.render(w, r, id, page{name: "login_passkey", title: "login.passkey_step_title", narrow: true,
		data: passkeyStepData{Options: string(raw), Next: next}})
}
