package endpoints

import (
	"net/http"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/decision"
	"github.com/gatehouse/gatehouse/gate"
	"github.com/gatehouse/gatehouse/internal/reqbody"
	"github.com/gatehouse/gatehouse/problem"
	"github.com/gatehouse/gatehouse/service"
)

type setupData struct {
	Login       string
	MinPassword int
	Error       *message
}

// serveSetup is the one-time first-admin page. The token is typed or
// filled in from the link's fragment by the page; it never travels in a
// URL the server sees. On success the new administrator is signed in.
func (s *Site) serveSetup(w http.ResponseWriter, r *http.Request, id *decision.Identity) error {
	svc := s.svc()
	if !svc.SetupPending() {
		return s.render(w, r, id, page{status: http.StatusNotFound, name: "message", title: "setup.done_title", narrow: true,
			data: messageData{Message: "setup.done", Link: s.Path("login"), LinkText: "setup.sign_in"}})
	}
	data := setupData{MinPassword: authstore.MinPasswordLen}
	if r.Method != http.MethodPost {
		return s.render(w, r, id, page{name: "setup", title: "setup.title", narrow: true, data: data})
	}
	if d := gate.CrossOriginDenial(r); d != nil {
		return s.refuse(w, r, d, id)
	}
	params, d := reqbody.Params(r)
	if d != nil {
		return s.refuse(w, r, d, id)
	}
	data.Login = loginEcho(params.Get("login"))
	u, err := svc.Setup(r.Context(), service.SetupRequest{
		Token: params.Get("setup_token"), Login: params.Get("login"),
		Password: params.Get("password"), PasswordConfirm: params.Get("password_confirm"), IP: s.facts.ClientIP(r),
	})
	if err != nil {
		return s.setupRefused(w, r, id, data, problem.From(err, problem.API))
	}
	if _, err := s.startBrowserSession(w, r, u); err != nil {
		s.logger.Error("starting session", zap.Error(err))
		return redirect(w, r, s.Path("login"))
	}
	return redirect(w, r, s.Path("pat"))
}

// setupRefused shows the setup page again with what was wrong
// (service.Setup's refusals), or the done page when there is no setup
// to do.
func (s *Site) setupRefused(w http.ResponseWriter, r *http.Request, id *decision.Identity, data setupData, d *problem.Problem) error {
	switch d.Reason {
	case service.SetupDone:
		return s.render(w, r, id, page{status: http.StatusConflict, name: "message", title: "setup.done_title", narrow: true,
			data: messageData{Message: "setup.done", Link: s.Path("login"), LinkText: "setup.sign_in"}})
	case "login_throttled":
		data.Login = "" // refused before the form was read
		w.Header().Set("Retry-After", d.Headers.Get("Retry-After"))
		data.Error = loginMessage(d)
	case service.SetupBadToken:
		s.denied(r, d, nil)
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
		s.denied(r, d, nil)
		w.Header().Set("Retry-After", d.Headers.Get("Retry-After"))
		data.Error = msg("setup.busy")
	default:
		return s.refuse(w, r, d, id)
	}
	return s.render(w, r, id, page{status: d.Status, name: "setup", title: "setup.title", narrow: true, data: data})
}

// messageData is the Data of the generic message page.
type messageData struct {
	Message  string // message id
	Link     string
	LinkText string // message id
}
