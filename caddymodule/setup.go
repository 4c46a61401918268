package caddymodule

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/gate"
	"github.com/gatehouse/gatehouse/problem"
)

func init() {
	registerEndpoint(&endpoint{
		name: "setup", path: api.PathSetup, methods: []string{http.MethodGet, http.MethodHead, http.MethodPost},
		access: accessNone, serve: (*Handler).serveSetup,
	})
}

// setupTTL is how long the first-admin setup token works.
const setupTTL = time.Hour

// setupOffer is the setup token this process logged for a store, kept in
// memory so that a config reload logs the same link instead of replacing
// it.
type setupOffer struct {
	mu      sync.Mutex
	token   string
	expires time.Time
}

// offerSetup runs when the app starts: on a store without human accounts
// it issues a one-time setup token (1 hour, single use) and logs where to
// use it. Registered agents do not count: open registration must not end
// setup (authstore/setup.go). The log line necessarily holds the token: it
// is the operator's bootstrap secret, like a first-run password. Operators
// who prefer the command line use `caddy gatehouse user add` and `user
// passwd` instead.
func (a *App) offerSetup() error {
	if humans, err := a.store.HasHumans(); err != nil || humans {
		return nil
	}
	o := &a.setup
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.token == "" || !time.Now().Before(o.expires) || !a.store.SetupPending() {
		tok, exp, err := a.store.CreateSetupGrant(setupTTL)
		if err != nil {
			a.logger.Error("creating the first-admin setup token", zap.Error(err))
			return nil
		}
		o.token, o.expires = tok, exp
	}
	a.logger.Warn("no user accounts yet: open the setup link on a site with gatehouse endpoints to create the first administrator (single use)",
		zap.String("setup_url", "/setup#"+o.token), zap.Time("expires", o.expires),
		zap.String("or", "caddy gatehouse user add <login> && caddy gatehouse user passwd <login>"))
	return nil
}

// forget drops the offer once setup is done.
func (o *setupOffer) forget() {
	o.mu.Lock()
	o.token, o.expires = "", time.Time{}
	o.mu.Unlock()
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
	if !a.store.SetupPending() {
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
	// A guess is counted before anything is checked (service.BeginSetup).
	at, d := a.svc.BeginSetup(clientIP(r))
	if d != nil && d.Status != http.StatusTooManyRequests {
		return h.refuse(w, r, d, id, -1)
	}
	if at == nil {
		w.Header().Set("Retry-After", d.Headers.Get("Retry-After"))
		data.Error = loginMessage(d)
		return h.render(w, r, id, page{status: d.Status, name: "setup", title: "setup.title", narrow: true, data: data})
	}
	fail := func(status int, m *message) error {
		data.Error = m
		return h.render(w, r, id, page{status: status, name: "setup", title: "setup.title", narrow: true, data: data})
	}
	done := func(status int) error {
		return h.render(w, r, id, page{status: status, name: "message", title: "setup.done_title", narrow: true,
			data: messageData{Message: "setup.done", Link: h.Endpoints.Path("login"), LinkText: "setup.sign_in"}})
	}
	login, pw := params.Get("login"), params.Get("password")
	data.Login = loginEcho(login)
	// The token first: a wrong one costs no password hash.
	switch err := a.store.CheckSetupToken(params.Get("setup_token")); {
	case errors.Is(err, authstore.ErrBadCredentials), errors.Is(err, authstore.ErrExpired):
		logDenial(h.logger, r, problem.Forbidden("setup_token", "wrong or expired setup token"), nil, -1)
		return fail(http.StatusForbidden, msg("setup.err_token"))
	case errors.Is(err, authstore.ErrSetupUnavailable):
		at.RefundAll()
		return done(http.StatusConflict)
	case err != nil:
		at.RefundAll()
		h.logger.Error("checking the setup token", zap.Error(err))
		return h.refuse(w, r, problem.Internal(), id, -1)
	}
	at.RefundAll() // the right token: not a guess
	normalized, err := authstore.NormalizeLogin(login)
	if err != nil {
		return fail(http.StatusBadRequest, msg("setup.err_login"))
	}
	// Only an agent can hold a login while setup is pending; asking here
	// spares a password hash, UseSetupGrant decides.
	if _, err := a.store.UserByLogin(normalized); err == nil {
		return fail(http.StatusConflict, msg("setup.err_taken"))
	}
	if authstore.CheckPasswordPolicy(pw) != nil {
		return fail(http.StatusBadRequest, msg("setup.err_password", authstore.MinPasswordLen))
	}
	if pw != params.Get("password_confirm") {
		return fail(http.StatusBadRequest, msg("setup.err_mismatch"))
	}
	hash, err := authstore.HashPasswordContext(r.Context(), pw)
	switch {
	case errors.Is(err, authstore.ErrBusy), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		d := problem.Busy()
		logDenial(h.logger, r, d, nil, -1)
		w.Header().Set("Retry-After", d.Headers.Get("Retry-After"))
		return fail(d.Status, msg("setup.busy"))
	case err != nil:
		h.logger.Error("hashing the first password", zap.Error(err))
		return h.refuse(w, r, problem.Internal(), id, -1)
	}
	u, err := a.store.UseSetupGrant(params.Get("setup_token"), authstore.NewUser{Login: login, Tier: a.policy.DefaultTier}, hash,
		authstore.Actor{Kind: authstore.ActorUser, IP: clientIP(r)})
	switch {
	case errors.Is(err, authstore.ErrBadCredentials), errors.Is(err, authstore.ErrExpired):
		// Expired (or replaced) since the check above.
		logDenial(h.logger, r, problem.Forbidden("setup_token", "wrong or expired setup token"), nil, -1)
		return fail(http.StatusForbidden, msg("setup.err_token"))
	case errors.Is(err, authstore.ErrSetupUnavailable):
		return done(http.StatusConflict)
	case errors.Is(err, authstore.ErrExists):
		return fail(http.StatusConflict, msg("setup.err_taken"))
	case err != nil:
		h.logger.Error("first-admin setup", zap.Error(err))
		return h.refuse(w, r, problem.Internal(), id, -1)
	}
	a.setup.forget()
	h.logger.Info("first administrator created", zap.String("user", u.Login), zap.String("client_ip", clientIP(r)))
	if _, err := h.startBrowserSession(w, r, u); err != nil {
		h.logger.Error("starting session", zap.String("user", u.Login), zap.Error(err))
		return redirect(w, r, h.Endpoints.Path("login"))
	}
	return redirect(w, r, h.Endpoints.Path("pat"))
}

// messageData is the Data of the generic message page.
type messageData struct {
	Message  string // message id
	Link     string
	LinkText string // message id
}
