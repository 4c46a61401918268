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

// setPasswordData is the one-time password page's Data.
type setPasswordData struct {
	MinPassword int
	Error       *message
}

// serveSetPassword is where a one-time password link lands (a new
// account made in the console, or a reset): the login and token come in
// the link's fragment, which the page's script copies into the form, so
// they never travel in a URL the server sees. On success the user is
// signed in.
func (s *Site) serveSetPassword(w http.ResponseWriter, r *http.Request, id *decision.Identity) error {
	data := setPasswordData{MinPassword: authstore.MinPasswordLen}
	if r.Method != http.MethodPost {
		return s.render(w, r, id, page{name: "set_password", title: "setpw.title", narrow: true, data: data})
	}
	if d := gate.CrossOriginDenial(r); d != nil {
		return s.refuse(w, r, d, id)
	}
	params, d := reqbody.Params(r)
	if d != nil {
		return s.refuse(w, r, d, id)
	}
	u, err := s.svc().UsePasswordLink(r.Context(), params.Get("u"), params.Get("t"), params.Get("password"),
		params.Get("password_confirm"), s.facts.ClientIP(r))
	if err != nil {
		d := problem.From(err, problem.API)
		s.denied(r, d, nil)
		for k, v := range d.Headers {
			w.Header()[k] = v
		}
		data.Error = accountMessage(d)
		if d.Reason == service.LinkInvalid {
			data.Error = msg("setpw.err_link")
		}
		return s.render(w, r, id, page{status: d.Status, name: "set_password", title: "setpw.title", narrow: true, data: data})
	}
	w.Header().Del("Set-Cookie")
	if _, err := s.startBrowserSession(w, r, u); err != nil {
		s.logger.Error("starting session", zap.Error(err))
		return redirect(w, r, s.Path("login"))
	}
	return redirect(w, r, s.Path("account"))
}
