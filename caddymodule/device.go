package caddymodule

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/problem"
	"github.com/gatehouse/gatehouse/ratelimit"
	"github.com/gatehouse/gatehouse/service"
)

// Guessing user codes: a session may enter a few wrong codes and a client
// IP a few more (people behind one NAT) before each further wrong code
// locks it out for longer (see service/backoff.go). With 20^8 codes and a 10-minute
// lifetime, that makes guessing a live code hopeless.
const (
	deviceSessionFreeFailures = 5
	deviceIPFreeFailures      = 10
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
func (h *Handler) serveDevice(w http.ResponseWriter, r *http.Request, id *Identity) error {
	if !id.Browser {
		switch {
		case id.User != nil:
			return h.refuse(w, r, problem.Forbidden("session_required", "this endpoint requires a browser session token"), id, -1)
		case r.Method == http.MethodPost:
			return h.refuse(w, r, problem.Unauthenticated(), id, -1)
		}
		return redirect(w, r, h.loginURL(r.URL.RequestURI()))
	}
	params := r.URL.Query()
	if r.Method == http.MethodPost {
		var d *problem.Problem
		if params, d = readParams(r); d != nil {
			return h.refuse(w, r, d, id, -1)
		}
	}
	code := strings.TrimSpace(params.Get("user_code"))
	if code == "" {
		return h.renderDevice(w, r, id, http.StatusOK, &devicePageData{})
	}
	g, status, bad := h.findDeviceGrant(r, id, code)
	if bad != nil {
		return h.renderDevice(w, r, id, status, &devicePageData{UserCode: code, Error: bad})
	}
	data := h.deviceForm(id, g, code)
	if r.Method != http.MethodPost {
		return h.renderDevice(w, r, id, http.StatusOK, data)
	}
	actor := authstore.UserActor(id.User.ID, clientIP(r))
	switch params.Get("action") {
	case "deny":
		return h.decideDevice(w, r, id, data, nil, actor)
	case "approve":
		req, bad := data.read(params)
		if bad == nil {
			if err := h.app.svc.SelfServiceCaps(id.User, req.Resources); err != nil {
				bad = msg("pat.err_create")
			}
		}
		if bad != nil {
			data.Error = bad
			return h.renderDevice(w, r, id, http.StatusBadRequest, data)
		}
		req.Via = authstore.ViaDevice
		n, err := h.app.svc.CheckPATRequest(id.User, req)
		if err != nil {
			d := problem.From(err, problem.API)
			logDenial(h.logger, r, d, id, -1)
			data.Error = msg("pat.err_create")
			return h.renderDevice(w, r, id, d.Status, data)
		}
		return h.decideDevice(w, r, id, data, &n, actor)
	}
	data.Error = msg("device.err_action")
	return h.renderDevice(w, r, id, http.StatusBadRequest, data)
}

// findDeviceGrant looks a typed code up, counting a wrong one against the
// session and the client IP; a code that is unknown, expired or already
// used says so plainly. The lookup is counted as a wrong code before it
// is made and refunded when the code exists (see service.Backoff.Begin), so
// concurrent guesses cannot slip past the lock.
func (h *Handler) findDeviceGrant(r *http.Request, id *Identity, code string) (*authstore.DeviceGrant, int, *message) {
	now := time.Now()
	at, wait := h.app.devices.Begin(now,
		service.Allowance{Key: service.BackoffKey("device-sid", id.Session.ID), Free: deviceSessionFreeFailures},
		service.Allowance{Key: service.BackoffKey("device-ip", ratelimit.ClientKey(clientIP(r))), Free: deviceIPFreeFailures})
	if at == nil {
		return nil, http.StatusTooManyRequests, msg("device.err_throttled", int(wait.Round(time.Second)/time.Second)+1)
	}
	g, err := h.app.store.DeviceGrantByUserCode(code)
	if errors.Is(err, authstore.ErrNotFound) {
		return nil, http.StatusNotFound, msg("device.err_unknown")
	}
	at.RefundAll() // not a wrong guess
	switch {
	case err != nil:
		h.logger.Error("looking up a device grant", zap.Error(err))
		return nil, http.StatusInternalServerError, msg("common.server_error")
	case g.Status != authstore.DevicePending:
		return nil, http.StatusConflict, msg("device.err_used")
	case !now.Before(g.ExpiresAt):
		return nil, http.StatusGone, msg("device.err_expired")
	}
	return g, http.StatusOK, nil
}

// deviceForm is the approval form for g: what the client asked for,
// within what the user holds. The browser's choices win when it posts.
func (h *Handler) deviceForm(id *Identity, g *authstore.DeviceGrant, code string) *devicePageData {
	checked := func(s string) bool { return len(g.Scopes) == 0 || slices.Contains(g.Scopes, s) }
	data := &devicePageData{
		tokenForm: h.newTokenForm(id, "token_name", checked, g.ExpiresDays),
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
func (h *Handler) decideDevice(w http.ResponseWriter, r *http.Request, id *Identity, data *devicePageData, approval *authstore.NewPAT, actor authstore.Actor) error {
	_, err := h.app.store.DecideDevice(data.UserCode, id.User.ID, approval, actor)
	switch {
	case errors.Is(err, authstore.ErrDeviceCodeUsed), errors.Is(err, authstore.ErrExpired), errors.Is(err, authstore.ErrNotFound):
		return h.renderDevice(w, r, id, http.StatusConflict, &devicePageData{UserCode: data.UserCode, Error: msg("device.err_not_pending")})
	case errors.Is(err, authstore.ErrInvalidName): // checkPATRequest checked it first
		data.Error = msg("pat.err_name")
		return h.renderDevice(w, r, id, http.StatusBadRequest, data)
	case err != nil:
		h.logger.Error("deciding a device grant", zap.Error(err))
		return h.refuse(w, r, problem.Internal(), id, -1)
	}
	outcome := "device.denied"
	if approval != nil {
		outcome = "device.approved"
		deviceFlow.WithLabelValues("approved").Inc()
		h.logger.Info("device approved", zap.String("user", id.User.Login), zap.String("client_id", data.ClientID),
			zap.Strings("scopes", approval.Scopes))
	} else {
		deviceFlow.WithLabelValues("denied").Inc()
		h.logger.Info("device denied", zap.String("user", id.User.Login), zap.String("client_id", data.ClientID))
	}
	return h.render(w, r, id, page{name: "message", title: "device.title", narrow: true,
		data: messageData{Message: outcome}})
}

func (h *Handler) renderDevice(w http.ResponseWriter, r *http.Request, id *Identity, status int, data *devicePageData) error {
	return h.render(w, r, id, page{status: status, name: "device", title: "device.title", narrow: !data.Confirm, data: data})
}
