package idp

import (
	"context"
	"crypto/rand"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"
	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/authstore"
)

// Env is what the two handlers need from the server around them. Every
// function is required except Observe and Logger.
type Env struct {
	// Flows seals and remembers flows; shared across config generations.
	Flows *Flows
	// CallbackPath is the path of provider name's callback
	// (/login/<name>/callback unless moved).
	CallbackPath func(name string) string
	// SafeNext returns next if it is a local path the login form would
	// go to, else its fallback (the login form's own rule).
	SafeNext func(next string) string
	// SignIn turns a verified identity into the account it signs in
	// (service.SignInExternal): found by (provider, subject), or created.
	// A disabled account is authstore.ErrUserDisabled.
	SignIn func(ctx context.Context, p *Provider, id *Identity, ip string) (*authstore.User, error)
	// StartSession starts the browser session of u and sets its cookie,
	// exactly as the local login does.
	StartSession func(w http.ResponseWriter, r *http.Request, u *authstore.User) error
	// Refused records a refusal (audit trail); called before Refuse.
	Refused func(r *http.Request, p *Provider, rf *Refusal)
	// Refuse writes the refusal page.
	Refuse func(w http.ResponseWriter, r *http.Request, rf *Refusal)
	// ClientIP is the request's client IP (trusted_proxies honoured).
	ClientIP func(r *http.Request) string
	// Secure reports whether the browser reached us over TLS (the flow
	// cookie's Secure flag).
	Secure func(r *http.Request) bool
	// ExternalBase is scheme://host as the browser addressed the site
	// (through a trusted proxy), the origin of the default redirect URL;
	// nil derives it from Secure and the Host header.
	ExternalBase func(r *http.Request) string
	// Observe counts a sign-in by provider and outcome ("success" or a
	// Reason); nil counts nothing.
	Observe func(provider, outcome string)
	// Logger gets one line per sign-in and refusal, never a secret.
	Logger *zap.Logger
	// Now is the clock of flow expiry. Default: time.Now.
	Now func() time.Time
}

func (e *Env) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Env) log() *zap.Logger {
	if e.Logger != nil {
		return e.Logger
	}
	return zap.NewNop()
}

// cookieName is the flow cookie of a provider; one per provider, so two
// providers' flows do not overwrite each other.
func cookieName(provider string) string { return "gatehouse_idp_" + provider }

// redirectURL is the callback URL given to the provider: the configured
// one, or this request's origin with the callback path. A forged Host
// only makes a URL the provider refuses (it must match the one
// registered).
func (e *Env) redirectURL(r *http.Request, p *Provider) string {
	if p.cfg.RedirectURL != "" {
		return p.cfg.RedirectURL
	}
	if e.ExternalBase != nil {
		return e.ExternalBase(r) + e.CallbackPath(p.cfg.Name)
	}
	scheme := "http"
	if e.Secure(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host + e.CallbackPath(p.cfg.Name)
}

// Start begins a sign-in (GET /login/<name>?next=…): a new flow (state,
// nonce, PKCE verifier) sealed into a cookie scoped to the callback, and
// a redirect to the provider.
func (e *Env) Start(w http.ResponseWriter, r *http.Request, p *Provider) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	f := &flow{
		Provider: p.cfg.Name, State: rand.Text(), Nonce: rand.Text(), Verifier: oauth2.GenerateVerifier(),
		Next: e.SafeNext(r.URL.Query().Get("next")), Expires: e.now().Add(FlowTTL).Unix(),
	}
	target, err := p.impl.authURL(r.Context(), e.redirectURL(r, p), f)
	if err != nil {
		e.refuse(w, r, p, AsRefusal(err))
		return
	}
	sealed, err := e.Flows.seal(f)
	if err != nil {
		e.refuse(w, r, p, AsRefusal(err))
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: cookieName(p.cfg.Name), Value: sealed, Path: e.CallbackPath(p.cfg.Name),
		MaxAge: int(FlowTTL / time.Second), HttpOnly: true, Secure: e.Secure(r),
		// Lax: the provider's redirect back is a top-level GET from
		// another site, which Lax lets through and Strict would not.
		SameSite: http.SameSiteLaxMode,
	})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// Callback finishes a sign-in (GET /login/<name>/callback): the flow
// cookie is read and cleared whatever happens, its state must match and
// may be used once, the code is redeemed and verified by the provider,
// and the identity signs in (or creates) an account whose browser
// session then starts. Every refusal is a page; none creates an
// account or a session.
func (e *Env) Callback(w http.ResponseWriter, r *http.Request, p *Provider) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.SetCookie(w, &http.Cookie{
		Name: cookieName(p.cfg.Name), Value: "", Path: e.CallbackPath(p.cfg.Name), MaxAge: -1,
		HttpOnly: true, Secure: e.Secure(r), SameSite: http.SameSiteLaxMode,
	})
	u, next, rf := e.complete(r, p)
	if rf != nil {
		e.refuse(w, r, p, rf)
		return
	}
	if err := e.StartSession(w, r, u); err != nil {
		e.log().Error("starting session after sign-in", zap.String("provider", p.cfg.Name), zap.String("user", u.Login), zap.Error(err))
		rf := refuse(ReasonInternal, http.StatusInternalServerError, "starting the session failed")
		rf.UserID = u.ID
		e.refuse(w, r, p, rf)
		return
	}
	e.log().Info("login", zap.String("provider", p.cfg.Name), zap.String("user", u.Login), zap.String("client_ip", e.ClientIP(r)))
	if e.Observe != nil {
		e.Observe(p.cfg.Name, "success")
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// complete runs the callback's checks up to the account.
func (e *Env) complete(r *http.Request, p *Provider) (*authstore.User, string, *Refusal) {
	q := r.URL.Query()
	c, err := r.Cookie(cookieName(p.cfg.Name))
	if err != nil {
		return nil, "", refuse(ReasonStateInvalid, http.StatusBadRequest, "no flow cookie")
	}
	now := e.now()
	f, err := e.Flows.open(c.Value, p.cfg.Name, now)
	switch {
	case errors.Is(err, errFlowExpired):
		return nil, "", refuse(ReasonFlowExpired, http.StatusBadRequest, "flow expired")
	case err != nil:
		return nil, "", refuse(ReasonStateInvalid, http.StatusBadRequest, "%v", err)
	}
	if !sameString(q.Get("state"), f.State) {
		return nil, "", refuse(ReasonStateInvalid, http.StatusBadRequest, "state does not match the flow cookie")
	}
	// Used once: the flow is spent whether the provider said yes or no.
	if !e.Flows.consume(f, now) {
		return nil, "", refuse(ReasonStateReplayed, http.StatusBadRequest, "flow used already")
	}
	if code := q.Get("error"); code != "" {
		return nil, "", refuse(ReasonProviderError, http.StatusForbidden, "provider said %s", printable(code))
	}
	code := q.Get("code")
	if code == "" {
		return nil, "", refuse(ReasonProviderError, http.StatusBadRequest, "no code")
	}
	id, err := p.impl.exchange(r.Context(), e.redirectURL(r, p), code, f)
	if err != nil {
		return nil, "", AsRefusal(err)
	}
	u, err := e.SignIn(r.Context(), p, id, e.ClientIP(r))
	switch {
	case err == nil:
		return u, f.Next, nil
	case errors.Is(err, authstore.ErrUserDisabled):
		rf := refuse(ReasonDisabled, http.StatusForbidden, "account disabled")
		if u != nil {
			rf.UserID = u.ID
		}
		return nil, "", rf
	}
	e.log().Error("signing in an external identity", zap.String("provider", p.cfg.Name), zap.Error(err))
	return nil, "", refuse(ReasonInternal, http.StatusInternalServerError, "account lookup failed")
}

// printable keeps a provider-sent value fit for a log line: short,
// printable ASCII.
func printable(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}

func (e *Env) refuse(w http.ResponseWriter, r *http.Request, p *Provider, rf *Refusal) {
	rf.Provider = p.Label()
	e.log().Info("login refused", zap.String("provider", p.cfg.Name), zap.String("reason", rf.Reason),
		zap.String("detail", rf.Detail), zap.String("client_ip", e.ClientIP(r)))
	if e.Observe != nil {
		e.Observe(p.cfg.Name, rf.Reason)
	}
	if e.Refused != nil {
		e.Refused(r, p, rf)
	}
	if e.Refuse != nil {
		e.Refuse(w, r, rf)
		return
	}
	WriteRefusal(w, rf, rf.Reason)
}

var refusalPage = template.Must(template.New("refusal").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Sign-in refused</title></head>
<body><h1>Sign-in with {{.Provider}} refused</h1><p>{{.Text}}</p></body></html>
`))

// WriteRefusal writes a minimal refusal page with text (already
// translated), for servers without page templates.
func WriteRefusal(w http.ResponseWriter, rf *Refusal, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(rf.Status)
	_ = refusalPage.Execute(w, struct{ Provider, Text string }{rf.Provider, text})
}
