package endpoints

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/decision"
	"github.com/gatehouse/gatehouse/internal/clock"
	"github.com/gatehouse/gatehouse/internal/reqbody"
	"github.com/gatehouse/gatehouse/problem"
)

// oauthError is an RFC 6749 §5.2 error answer: 400 with `error` and
// `error_description` (and `message`, like every Gatehouse error body).
func oauthError(code, description string) *problem.Problem {
	return &problem.Problem{Status: http.StatusBadRequest, Code: code, Message: description, OAuth: true, Reason: "device_" + code}
}

// serveDeviceCode answers POST /api/oauth/device/code (RFC 8628 §3.1–3.2).
// The client may pre-fill scope, token_name and expires_days; the person
// approving decides.
func (s *Site) serveDeviceCode(w http.ResponseWriter, r *http.Request, id *decision.Identity) error {
	form, d := readOAuthForm(r)
	if d != nil {
		return s.refuse(w, r, d, id)
	}
	clientID := oauthClientID(r, form)
	if d := checkClientID(clientID); d != nil {
		return s.refuse(w, r, d, id)
	}
	scopes := config.ParseScopeList(form.Get("scope"))
	if err := s.policy.CheckScopes(scopes); err != nil {
		return s.refuse(w, r, oauthError("invalid_scope", err.Error()), id)
	}
	// token_name is optional (absent or empty: a default name is offered);
	// one that is sent must be a valid token name.
	name := form.Get("token_name")
	if name != "" {
		var err error
		if name, err = authstore.CheckTokenName(name); err != nil {
			return s.refuse(w, r, oauthError("invalid_request", err.Error()), id)
		}
	}
	days := 0
	if v := form.Get("expires_days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > s.policy.PATMaxDays {
			return s.refuse(w, r, oauthError("invalid_request", fmt.Sprintf("expires_days: must be 1 to %d", s.policy.PATMaxDays)), id)
		}
		days = n
	}
	p := s.policy
	deviceCode, userCode, err := s.svc().Store.CreateDeviceGrant(authstore.NewDeviceGrant{
		ClientID: clientID, Scopes: scopes, TokenName: name, ExpiresDays: days,
		IP: s.facts.ClientIP(r), UserAgent: r.UserAgent(), // sanitised by the store
		TTL: p.DeviceCodeTTL, Interval: p.DeviceInterval,
	})
	if errors.Is(err, authstore.ErrInvalidName) {
		return s.refuse(w, r, oauthError("invalid_request", err.Error()), id)
	}
	if err != nil {
		s.logger.Error("creating device grant", zap.Error(err))
		return s.refuse(w, r, problem.Internal(), id)
	}
	s.metrics.DeviceFlow("issued")
	shown := authstore.FormatUserCode(userCode)
	verify := s.facts.ExternalBase(r) + s.Path("device")
	problem.WriteJSON(w, http.StatusOK, api.DeviceCodeResponse{
		DeviceCode: deviceCode, UserCode: shown,
		VerificationURI: verify, VerificationURIComplete: verify + "?user_code=" + url.QueryEscape(shown),
		ExpiresIn: int(p.DeviceCodeTTL / time.Second), Interval: int(p.DeviceInterval / time.Second),
	})
	return nil
}

// serveDeviceToken answers the client's polls (RFC 8628 §3.4–3.5).
func (s *Site) serveDeviceToken(w http.ResponseWriter, r *http.Request, id *decision.Identity) error {
	form, d := readOAuthForm(r)
	if d != nil {
		return s.refuse(w, r, d, id)
	}
	switch gt := form.Get("grant_type"); {
	case gt == "":
		return s.refuse(w, r, oauthError("invalid_request", "grant_type is required"), id)
	case gt != api.DeviceGrantType:
		return s.refuse(w, r, oauthError("unsupported_grant_type", "this endpoint serves grant_type "+api.DeviceGrantType), id)
	}
	clientID, deviceCode := oauthClientID(r, form), form.Get("device_code")
	if d := checkClientID(clientID); d != nil {
		return s.refuse(w, r, d, id)
	}
	if deviceCode == "" || len(deviceCode) > 128 {
		return s.refuse(w, r, oauthError("invalid_request", "device_code is required"), id)
	}
	if form.Get(api.ParamSession) == "1" {
		return s.serveDeviceSession(w, r, id, deviceCode, clientID)
	}
	tok, pat, g, err := s.svc().Store.PollDevice(deviceCode, clientID)
	if err != nil {
		return s.refusePoll(w, r, id, g, err)
	}
	s.metrics.DeviceFlow("token_issued")
	s.logger.Info("device token issued", zap.String("token_id", pat.ID), zap.String("hint", pat.Hint), zap.String("client_id", clientID))
	resp := api.DeviceTokenResponse{AccessToken: tok, TokenType: "Bearer", Scope: strings.Join(pat.Scopes, " ")}
	if !pat.ExpiresAt.IsZero() {
		resp.ExpiresIn = int64(pat.ExpiresAt.Sub(clock.Now()) / time.Second)
	}
	problem.WriteJSON(w, http.StatusOK, resp)
	return nil
}

// serveDeviceSession answers a poll with session=1: once approved, the
// grant yields a CLI session (access JWT and refresh token, RFC 6749
// §5.1) instead of a PAT (service.DeviceSession).
func (s *Site) serveDeviceSession(w http.ResponseWriter, r *http.Request, id *decision.Identity, deviceCode, clientID string) error {
	tokens, g, err := s.svc().DeviceSession(deviceCode, clientID, s.facts.ClientIP(r), r.UserAgent())
	if err != nil {
		return s.refusePoll(w, r, id, g, err)
	}
	s.metrics.DeviceFlow("token_issued")
	s.logger.Info("device session issued", zap.String("session", tokens.SessionID), zap.String("client_id", clientID))
	problem.WriteJSON(w, http.StatusOK, api.DeviceTokenResponse{
		AccessToken: tokens.AccessToken, TokenType: tokens.TokenType, ExpiresIn: int64(tokens.ExpiresIn), Scope: tokens.Scope,
		RefreshToken: tokens.RefreshToken, RefreshExpiresIn: int64(tokens.RefreshExpiresIn), SessionID: tokens.SessionID,
	})
	return nil
}

// refusePoll answers a poll that yields nothing (yet).
func (s *Site) refusePoll(w http.ResponseWriter, r *http.Request, id *decision.Identity, g *authstore.DeviceGrant, err error) error {
	d := problem.From(err, problem.DevicePoll)
	switch d.Code {
	case "slow_down":
		interval := 0
		if g != nil {
			interval = int(g.Interval / time.Second)
		}
		d.Message = fmt.Sprintf("polling too fast; wait %d seconds between polls", interval)
	case "access_denied":
		s.metrics.DeviceFlow("denied_polled")
	case "expired_token":
		s.metrics.DeviceFlow("expired")
	case "server_error":
		s.logger.Error("polling device grant", zap.Error(err))
	}
	return s.refuse(w, r, d, id)
}

// readOAuthForm reads an OAuth request body, which RFC 6749 requires to
// be application/x-www-form-urlencoded; anything else is invalid_request.
func readOAuthForm(r *http.Request) (url.Values, *problem.Problem) {
	if reqbody.MediaType(r) != reqbody.FormType {
		return nil, oauthError("invalid_request", "send the parameters as application/x-www-form-urlencoded")
	}
	form, d := reqbody.Params(r)
	if d != nil {
		return nil, oauthError("invalid_request", d.Message)
	}
	return form, nil
}

// oauthClientID is the client_id parameter or, for a client that
// authenticates with HTTP Basic (RFC 6749 §2.3.1), its user name.
func oauthClientID(r *http.Request, form url.Values) string {
	if id := form.Get("client_id"); id != "" {
		return id
	}
	if user, _, ok := r.BasicAuth(); ok {
		// RFC 6749 §2.3.1: the client id is form-encoded before it goes
		// into the Basic credentials.
		if id, err := url.QueryUnescape(user); err == nil {
			return id
		}
	}
	return ""
}

func checkClientID(id string) *problem.Problem {
	if id == "" {
		return oauthError("invalid_request", "client_id is required")
	}
	if len(id) > 100 || strings.ContainsFunc(id, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		return oauthError("invalid_request", "client_id: at most 100 printable ASCII characters")
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
