package gatehousetest

import (
	"cmp"
	"crypto/rand"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/api"
)

// DeviceRequest is a device grant as the CLI asked for it.
type DeviceRequest struct {
	UserCode    string
	ClientID    string
	Scopes      []string
	TokenName   string
	ExpiresDays int
	Polls       int
}

// Decision approves or denies a device grant. Empty fields take what the
// CLI asked for (the browser's choice wins over the CLI's).
type Decision struct {
	Deny        bool
	User        string // default "alice"
	Scopes      []string
	TokenName   string
	ExpiresDays int // 0: as asked, else 90; negative: never expires
}

type grant struct {
	req      DeviceRequest
	deviceCd string
	expires  time.Time
	decision *Decision
	issued   bool
}

// SetInterval sets the polling interval of new device codes, in seconds.
func (s *Server) SetInterval(seconds int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.interval = seconds
}

// SetExpiresIn sets the lifetime of new device codes, in seconds.
func (s *Server) SetExpiresIn(seconds int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expiresIn = seconds
}

// SetSlowDown answers the next n polls slow_down, whatever the grant's
// state.
func (s *Server) SetSlowDown(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.slowDown = n
}

// SetDecide sets the function asked at every poll of a pending device
// grant; it returns nil to leave the grant pending. It stands for the
// person in front of the browser.
func (s *Server) SetDecide(decide func(DeviceRequest) *Decision) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.decide = decide
}

// ApproveAt is a decide function (see [Server.SetDecide]) that makes
// decision d at a grant's polls-th poll.
func ApproveAt(polls int, d Decision) func(DeviceRequest) *Decision {
	return func(r DeviceRequest) *Decision {
		if r.Polls < polls {
			return nil
		}
		return &d
	}
}

// Approve decides the grant with that user code.
func (s *Server) Approve(userCode string, d Decision) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.grants {
		if g.req.UserCode == userCode {
			g.decision = &d
			return nil
		}
	}
	return fmt.Errorf("no grant with user code %q", userCode)
}

// Grants returns the device grants asked for so far.
func (s *Server) Grants() []DeviceRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []DeviceRequest
	for _, g := range s.grants {
		out = append(out, g.req)
	}
	return out
}

func (s *Server) deviceCode(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get(api.ParamClientID) == "" {
		writeJSON(w, http.StatusBadRequest, oauthError("invalid_request", "client_id is required"))
		return
	}
	days, _ := strconv.Atoi(r.PostForm.Get(api.ParamExpiresDays))
	s.mu.Lock()
	defer s.mu.Unlock()
	g := &grant{
		req: DeviceRequest{
			UserCode:    userCode(),
			ClientID:    r.PostForm.Get(api.ParamClientID),
			Scopes:      strings.Fields(r.PostForm.Get(api.ParamScope)),
			TokenName:   r.PostForm.Get(api.ParamTokenName),
			ExpiresDays: days,
		},
		deviceCd: randomBase62(40),
		expires:  s.now().Add(time.Duration(s.expiresIn) * time.Second),
	}
	s.grants[g.deviceCd] = g
	verify := "http://" + r.Host + api.PathDevice
	writeJSON(w, http.StatusOK, api.DeviceCodeResponse{
		DeviceCode:              g.deviceCd,
		UserCode:                g.req.UserCode,
		VerificationURI:         verify,
		VerificationURIComplete: verify + "?user_code=" + g.req.UserCode,
		ExpiresIn:               s.expiresIn,
		Interval:                s.interval,
	})
}

func (s *Server) deviceToken(w http.ResponseWriter, r *http.Request) {
	oauthErr := func(code, desc string) {
		writeJSON(w, http.StatusBadRequest, oauthError(code, desc))
	}
	if err := r.ParseForm(); err != nil {
		oauthErr("invalid_request", "bad form")
		return
	}
	if r.PostForm.Get(api.ParamGrantType) != api.DeviceGrantType {
		oauthErr("unsupported_grant_type", "grant_type must be the device code grant")
		return
	}
	s.mu.Lock()
	if s.slowDown > 0 {
		s.slowDown--
		s.mu.Unlock()
		oauthErr("slow_down", "polling too fast")
		return
	}
	if s.limited > 0 {
		s.limited--
		retry := s.retry
		s.mu.Unlock()
		w.Header().Set("Retry-After", strconv.Itoa(retry))
		writeJSON(w, http.StatusTooManyRequests, api.Error{Error: "rate_limited", Message: "slow down"})
		return
	}
	g, ok := s.grants[r.PostForm.Get(api.ParamDeviceCode)]
	if !ok || g.req.ClientID != r.PostForm.Get(api.ParamClientID) {
		s.mu.Unlock()
		oauthErr("invalid_grant", "unknown device code")
		return
	}
	g.req.Polls++
	if s.now().After(g.expires) {
		s.mu.Unlock()
		oauthErr("expired_token", "the device code has expired")
		return
	}
	decide := s.decide
	req := g.req
	s.mu.Unlock()
	var d *Decision
	if decide != nil {
		d = decide(req) // outside the lock: it may call Approve
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if d != nil && g.decision == nil {
		g.decision = d
	}
	switch {
	case g.issued:
		oauthErr("invalid_grant", "the device code was already used")
	case g.decision == nil:
		oauthErr("authorization_pending", "waiting for approval")
	case g.decision.Deny:
		oauthErr("access_denied", "the request was denied")
	case r.PostForm.Get(api.ParamSession) == "1" && s.deviceSessions:
		g.issued = true
		user := cmp.Or(g.decision.User, "alice")
		writeJSON(w, http.StatusOK, s.startSessionLocked(user).deviceResponse(s.now()))
	default:
		g.issued = true
		t := s.approveLocked(g)
		body := api.DeviceTokenResponse{AccessToken: t.Secret, TokenType: "Bearer", Scope: strings.Join(t.Scopes, " ")}
		if !t.ExpiresAt.IsZero() {
			body.ExpiresIn = int64(t.ExpiresAt.Sub(s.now()).Seconds())
		}
		writeJSON(w, http.StatusOK, body)
	}
}

// oauthError is an RFC 6749 §5.2 error body; like the server's, it also
// has the message every Gatehouse error body has.
func oauthError(code, description string) api.Error {
	return api.Error{Error: code, Description: description, Message: description}
}

func (s *Server) approveLocked(g *grant) *Token {
	d := g.decision
	user := cmp.Or(d.User, "alice")
	name := cmp.Or(d.TokenName, g.req.TokenName, "device")
	scopes := d.Scopes
	if scopes == nil {
		scopes = g.req.Scopes
	}
	days := d.ExpiresDays
	if days == 0 {
		days = g.req.ExpiresDays
	}
	if days == 0 {
		days = 90
	}
	var exp time.Time
	if days > 0 {
		exp = s.now().Add(time.Duration(days) * 24 * time.Hour).Truncate(time.Second)
	}
	return s.issueLocked(user, name, scopes, exp)
}

func userCode() string {
	const alphabet = "BCDFGHJKLMNPQRSTVWXZ"
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:4]) + "-" + string(b[4:])
}
