package endpoints

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/decision"
	"github.com/gatehouse/gatehouse/internal/reqbody"
	"github.com/gatehouse/gatehouse/problem"
	"github.com/gatehouse/gatehouse/service"
)

// devicePageData is the device page's Data.
type devicePageData struct {
	tokenForm
	// UserCode is the code as typed or shown (WDJB-MJHT).
	UserCode string
	// Confirm is true once a pending grant was found: the page shows the
	// request and the approval form instead of the code entry.
	Confirm   bool
	ClientID  string
	IP        string
	UserAgent string
	Requested time.Time
	// NotHeld are scopes the client asked for that the user does not hold.
	NotHeld string
	Error   *message
}

// serveDevice is the approval page of the device flow: GET shows the code
// entry or, with ?user_code=, the request and a form to narrow what the
// token may do; POST approves or denies (action=approve|deny).
func (s *Site) serveDevice(w http.ResponseWriter, r *http.Request, id *decision.Identity) error {
	if !id.Browser {
		switch {
		case id.User != nil:
			return s.refuse(w, r, problem.Forbidden("session_required", "this endpoint requires a browser session token"), id)
		case r.Method == http.MethodPost:
			return s.refuse(w, r, problem.Unauthenticated(), id)
		}
		return redirect(w, r, s.loginURL(r.URL.RequestURI()))
	}
	params := r.URL.Query()
	if r.Method == http.MethodPost {
		var d *problem.Problem
		if params, d = reqbody.Params(r); d != nil {
			return s.refuse(w, r, d, id)
		}
	}
	code := strings.TrimSpace(params.Get("user_code"))
	if code == "" {
		return s.renderDevice(w, r, id, http.StatusOK, &devicePageData{})
	}
	g, status, bad := s.findDeviceGrant(r, id, code)
	if bad != nil {
		return s.renderDevice(w, r, id, status, &devicePageData{UserCode: code, Error: bad})
	}
	data := s.deviceForm(id, g, code)
	if r.Method != http.MethodPost {
		return s.renderDevice(w, r, id, http.StatusOK, data)
	}
	actor := authstore.UserActor(id.User.ID, s.facts.ClientIP(r))
	switch params.Get("action") {
	case "deny":
		return s.decideDevice(w, r, id, data, nil, actor)
	case "approve":
		req, bad := data.read(params)
		if bad == nil {
			if err := s.svc().SelfServiceCaps(id.User, req.Resources); err != nil {
				bad = msg("pat.err_create")
			}
		}
		if bad != nil {
			data.Error = bad
			return s.renderDevice(w, r, id, http.StatusBadRequest, data)
		}
		req.Via = authstore.ViaDevice
		n, err := s.svc().CheckPATRequest(id.User, req)
		if err != nil {
			d := problem.From(err, problem.API)
			s.denied(r, d, id)
			data.Error = msg("pat.err_create")
			return s.renderDevice(w, r, id, d.Status, data)
		}
		return s.decideDevice(w, r, id, data, &n, actor)
	}
	data.Error = msg("device.err_action")
	return s.renderDevice(w, r, id, http.StatusBadRequest, data)
}

// findDeviceGrant looks a typed code up (service.FindDeviceGrant, which
// counts a wrong one against the session and the client IP); a code that
// is unknown, expired or already used says so plainly.
func (s *Site) findDeviceGrant(r *http.Request, id *decision.Identity, code string) (*authstore.DeviceGrant, int, *message) {
	g, err := s.svc().FindDeviceGrant(id.Session.ID, s.facts.ClientIP(r), code)
	var throttled *service.DeviceThrottled
	switch {
	case err == nil:
		return g, http.StatusOK, nil
	case errors.As(err, &throttled):
		return nil, http.StatusTooManyRequests, msg("device.err_throttled", int(throttled.Wait.Round(time.Second)/time.Second)+1)
	case errors.Is(err, authstore.ErrNotFound):
		return nil, http.StatusNotFound, msg("device.err_unknown")
	case errors.Is(err, authstore.ErrDeviceCodeUsed):
		return nil, http.StatusConflict, msg("device.err_used")
	case errors.Is(err, authstore.ErrExpired):
		return nil, http.StatusGone, msg("device.err_expired")
	}
	s.logger.Error("looking up a device grant", zap.Error(err))
	return nil, http.StatusInternalServerError, msg("common.server_error")
}

// deviceForm is the approval form for g: what the client asked for,
// within what the user holds. The browser's choices win when it posts.
func (s *Site) deviceForm(id *decision.Identity, g *authstore.DeviceGrant, code string) *devicePageData {
	checked := func(s string) bool { return len(g.Scopes) == 0 || slices.Contains(g.Scopes, s) }
	data := &devicePageData{
		tokenForm: s.newTokenForm(id, "token_name", checked, g.ExpiresDays),
		UserCode:  authstore.FormatUserCode(authstore.NormalizeUserCode(code)),
		Confirm:   true, ClientID: g.ClientID, IP: g.IP, UserAgent: authstore.SanitizeUserAgent(g.UserAgent), Requested: g.CreatedAt,
	}
	data.Name = g.TokenName
	if data.Name == "" {
		data.Name = defaultDeviceTokenName(g)
	}
	var notHeld []string
	for _, s := range g.Scopes {
		if !id.HasScope(s) {
			notHeld = append(notHeld, s)
		}
	}
	data.NotHeld = strings.Join(notHeld, " ")
	return data
}

// defaultDeviceTokenName names a device's token after the client, where
// the request came from and the day: gatehouse-cli-192.0.2.7-2026-11-23.
func defaultDeviceTokenName(g *authstore.DeviceGrant) string {
	host := strings.NewReplacer(":", ".", "[", "", "]", "").Replace(g.IP)
	return truncate(g.ClientID+"-"+host+"-"+g.CreatedAt.UTC().Format("2006-01-02"), 100)
}

// decideDevice records the user's answer (approval nil: deny) and shows
// the outcome.
func (s *Site) decideDevice(w http.ResponseWriter, r *http.Request, id *decision.Identity, data *devicePageData, approval *authstore.NewPAT, actor authstore.Actor) error {
	err := s.svc().DecideDevice(data.UserCode, data.ClientID, id.User, approval, actor)
	switch {
	case errors.Is(err, authstore.ErrDeviceCodeUsed), errors.Is(err, authstore.ErrExpired), errors.Is(err, authstore.ErrNotFound):
		return s.renderDevice(w, r, id, http.StatusConflict, &devicePageData{UserCode: data.UserCode, Error: msg("device.err_not_pending")})
	case errors.Is(err, authstore.ErrInvalidName): // checkPATRequest checked it first
		data.Error = msg("pat.err_name")
		return s.renderDevice(w, r, id, http.StatusBadRequest, data)
	case err != nil:
		s.logger.Error("deciding a device grant", zap.Error(err))
		return s.refuse(w, r, problem.Internal(), id)
	}
	outcome := "device.denied"
	if approval != nil {
		outcome = "device.approved"
		s.metrics.DeviceFlow("approved")
	} else {
		s.metrics.DeviceFlow("denied")
	}
	return s.render(w, r, id, page{name: "message", title: "device.title", narrow: true,
		data: messageData{Message: outcome}})
}

func (s *Site) renderDevice(w http.ResponseWriter, r *http.Request, id *decision.Identity, status int, data *devicePageData) error {
	return s.render(w, r, id, page{status: status, name: "device", title: "device.title", narrow: !data.Confirm, data: data})
}
