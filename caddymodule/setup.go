package caddymodule

import (
	"net/http"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/gate"
	"github.com/gatehouse/gatehouse/problem"
	"github.com/gatehouse/gatehouse/service"
)

// offerSetup runs when the app starts: on a store without human
// accounts it offers the first-admin setup (service.OfferSetup).
func (a *App) offerSetup() error {
	a.svc.OfferSetup()
	return nil
}

type setupData struct {
	Login       string
	MinPassword int
	Error       *message
}

// serveSetup is the one-time first-admin page. The token is typed or
// filled in from the link's fragment by the page; it never travels in a
// URL the server sees. On success the new administrator is signed in.
func (h *Handler) serveSetup(w http.ResponseWriter, r *http.Request, id *Identity) error {
	a := h.app
	if !a.svc.SetupPending() {
		return h.render(w, r, id, page{status: http.StatusNotFound, name: "message", title: "setup.done_title", narrow: true,
			data: messageData{Message: "setup.done", Link: h.Endpoints.Path("login"), LinkText: "setup.sign_in"}})
	}
	data := setupData{MinPassword: authstore.MinPasswordLen}
	if r.Method != http.MethodPost {
		return h.render(w, r, id, page{name: "setup", title: "setup.title", narrow: true, data: data})
	}
	if d := gate.CrossOriginDenial(r); d != nil {
		return h.refuse(w, r, d, id, -1)
	}
	params, d := readParams(r)
	if d != nil {
		return h.refuse(w, r, d, id, -1)
	}
	data.Login = loginEcho(params.Get("login"))
	u, err := a.svc.Setup(r.Context(), service.SetupRequest{
		Token: params.Get("setup_token"), Login: params.Get("login"),
		Password: params.Get("password"), PasswordConfirm: params.Get("password_confirm"), IP: clientIP(r),
	})
	if err != nil {
		return h.setupRefused(w, r, id, data, problem.From(err, problem.API))
	}
	if _, err := h.startBrowserSession(w, r, u); err != nil {
		h.logger.Error("starting session", zap.String("user", u.Login), zap.Error(err))
		return redirect(w, r, h.Endpoints.Path("login"))
	}
	return redirect(w, r, h.Endpoints.Path("pat"))
}

// setupRefused shows the setup page again with what was wrong
// (service.Setup's refusals), or the done page when there is no setup
// to do.
func (h *Handler) setupRefused(w http.ResponseWriter, r *http.Request, id *Identity, data setupData, d *problem.Problem) error {
	switch d.Reason {
	case service.SetupDone:
		return h.render(w, r, id, page{status: http.StatusConflict, name: "message", title: "setup.done_title", narrow: true,
			data: messageData{Message: "setup.done", Link: h.Endpoints.Path("login"), LinkText: "setup.sign_in"}})
	case "login_throttled":
		data.Login = "" // refused before the form was read
		w.Header().Set("Retry-After", d.Headers.Get("Retry-After"))
		data.Error = loginMessage(d)
	case service.SetupBadToken:
		logDenial(h.logger, r, d, nil, -1)
		data.Error = msg("setup.err_token")
	case service.SetupBadLogin:
		data.Error = msg("setup.err_login")
	case service.SetupTaken:
		data.Error = msg("setup.err_taken")
	case service.SetupBadPassword:
		data.Error = msg("setup.err_password", authstore.MinPasswordLen)
	case service.SetupMismatch:
		data.Error = msg("setup.err_mismatch")
	case "server_busy":
		logDenial(h.logger, r, d, nil, -1)
		w.Header().Set("Retry-After", d.Headers.Get("Retry-After"))
		data.Error = msg("setup.busy")
	default:
		return h.refuse(w, r, d, id, -1)
	}
	return h.render(w, r, id, page{status: d.Status, name: "setup", title: "setup.title", narrow: true, data: data})
}

// messageData is the Data of the generic message page.
type messageData struct {
	Message  string // message id
	Link     string
	LinkText string // message id
}
