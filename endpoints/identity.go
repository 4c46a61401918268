package endpoints

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/decision"
	"github.com/gatehouse/gatehouse/idp"
	"github.com/gatehouse/gatehouse/internal/clock"
	"github.com/gatehouse/gatehouse/service"
)

// Sign-in through identity providers: GET <login_provider><name> starts
// the flow, GET <login_provider><name>/callback finishes it (package idp
// does both); the session it ends in is the one the login form starts.

// providerButton is one "Sign in with …" button of the login page.
type providerButton struct {
	Label string
	URL   string
}

// idpEnv is what package idp needs from the site, for one request: the
// session start replaces a session the browser already had, as the login
// form does.
func (s *Site) idpEnv(id *decision.Identity) *idp.Env {
	return &idp.Env{
		Flows:        s.flows,
		CallbackPath: s.callbackPath,
		SafeNext:     s.safeNext,
		SignIn: func(_ context.Context, p *idp.Provider, ext *idp.Identity, ip string) (*authstore.User, error) {
			return s.svc().SignInExternal(service.ExternalSignIn{Provider: p.Name(), Subject: ext.Subject, Username: ext.Username, IP: ip})
		},
		StartSession: func(w http.ResponseWriter, r *http.Request, u *authstore.User) error {
			if id != nil && id.Session != nil && id.Browser {
				s.svc().ReplaceSession(id.User.ID, id.Session.ID, s.facts.ClientIP(r))
			}
			w.Header().Del("Set-Cookie")
			_, err := s.startBrowserSession(w, r, u)
			return err
		},
		Refused: func(r *http.Request, p *idp.Provider, rf *idp.Refusal) {
			s.svc().ExternalRefused(p.Name(), rf.Reason, rf.UserID, s.facts.ClientIP(r))
		},
		Refuse: func(w http.ResponseWriter, r *http.Request, rf *idp.Refusal) {
			_ = s.render(w, r, id, page{status: rf.Status, name: "signin_refused", title: "idp.title", narrow: true,
				data: refusalData{Error: refusalMessage(rf), Retry: s.Path("login")}})
		},
		ClientIP:     s.facts.ClientIP,
		Secure:       s.facts.IsHTTPS,
		ExternalBase: s.facts.ExternalBase,
		Observe:      s.metrics.IdentityLogin,
		Logger:       s.logger,
		Now:          clock.Now,
	}
}

// refusalMessages are the page texts of idp's refusals; each names the
// provider.
var refusalMessages = map[string]string{
	idp.ReasonProviderError:   "idp.provider_error",
	idp.ReasonStateInvalid:    "idp.state_invalid",
	idp.ReasonStateReplayed:   "idp.state_replayed",
	idp.ReasonFlowExpired:     "idp.flow_expired",
	idp.ReasonTokenInvalid:    "idp.token_invalid",
	idp.ReasonEmailUnverified: "idp.email_not_verified",
	idp.ReasonEmailDomain:     "idp.email_domain",
	idp.ReasonGroup:           "idp.group_not_allowed",
	idp.ReasonOrg:             "idp.org_not_allowed",
	idp.ReasonUnreachable:     "idp.provider_unreachable",
	idp.ReasonDisabled:        "idp.account_disabled",
	idp.ReasonInternal:        "idp.internal",
}

func refusalMessage(rf *idp.Refusal) *message {
	id, ok := refusalMessages[rf.Reason]
	if !ok {
		id = "idp.internal"
	}
	return msg(id, rf.Provider)
}

// refusalData is the refused sign-in page's Data.
type refusalData struct {
	Error *message
	Retry string
}

func (s *Site) callbackPath(name string) string {
	return s.Path("login_provider") + name + "/callback"
}

// serveLoginProvider routes <login_provider><name>[/callback] to the
// provider's flow; an unknown provider is a 404.
func (s *Site) serveLoginProvider(w http.ResponseWriter, r *http.Request, id *decision.Identity) error {
	rest := strings.TrimPrefix(strings.ToLower(r.URL.Path), strings.ToLower(s.Path("login_provider")))
	name, callback := strings.CutSuffix(rest, "/callback")
	p := s.providers[name]
	if p == nil || strings.Contains(name, "/") {
		return s.render(w, r, id, page{status: http.StatusNotFound, name: "message", title: "idp.title", narrow: true,
			data: messageData{Message: "idp.unknown", Link: s.Path("login"), LinkText: "idp.retry"}})
	}
	if callback {
		s.idpEnv(id).Callback(w, r, p)
	} else {
		s.idpEnv(id).Start(w, r, p)
	}
	return nil
}

// providerButtons are the login page's buttons, each carrying next.
func (s *Site) providerButtons(next string) []providerButton {
	out := make([]providerButton, 0, len(s.providerList))
	for _, p := range s.providerList {
		u := s.Path("login_provider") + p.Name()
		if next != "" && next != s.Path("pat") {
			u += "?next=" + url.QueryEscape(next)
		}
		out = append(out, providerButton{Label: p.Label(), URL: u})
	}
	return out
}
