package gatehousetest

import (
	"cmp"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Default device-flow timings of the fake: short, so tests run quickly.
const (
	DefaultInterval  = 1   // seconds between polls
	DefaultExpiresIn = 600 // seconds a device code lives
)

// Server is the fake. Its methods are safe for concurrent use, also while
// requests are served.
type Server struct {
	// URL is the base URL, `http://127.0.0.1:PORT`.
	URL string

	srv       *httptest.Server
	offline   atomic.Bool
	mu        sync.Mutex
	interval  int
	expiresIn int
	slowDown  int
	decide    func(DeviceRequest) *Decision
	tokens    map[string]*Token
	grants    map[string]*grant // by device code
	scopes    map[string][]string
	limited   int
	retry     int
	disabled  map[string]bool
	requests  []Request
	seq       int
}

// Token is a token the fake knows.
type Token struct {
	Secret    string
	ID        string
	Name      string
	User      string
	Scopes    []string
	ExpiresAt time.Time // zero: never
	Revoked   bool
}

// Hint is the token's display hint.
func (t *Token) Hint() string { return t.Secret[:8] + "****" }

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

// Request is a request the fake received.
type Request struct {
	Method string
	Path   string
	Header http.Header
	Form   url.Values // device endpoints only
	Body   string     // other endpoints
}

type grant struct {
	req      DeviceRequest
	deviceCd string
	expires  time.Time
	decision *Decision
	issued   bool
}

// NewServer starts a fake on 127.0.0.1 and closes it when the test ends.
func NewServer(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		interval:  DefaultInterval,
		expiresIn: DefaultExpiresIn,
		tokens:    map[string]*Token{},
		grants:    map[string]*grant{},
		scopes:    map[string][]string{},
		disabled:  map[string]bool{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/oauth/device/code", s.deviceCode)
	mux.HandleFunc("POST /api/oauth/device/token", s.deviceToken)
	mux.HandleFunc("GET /api/whoami", s.authed(s.whoami))
	mux.HandleFunc("POST /api/auth/revoke", s.authed(s.revoke))
	mux.HandleFunc("/", s.authed(s.echo))
	s.srv = httptest.NewUnstartedServer(s.record(mux))
	s.srv.Listener = dropListener{Listener: s.srv.Listener, offline: &s.offline}
	s.srv.Start()
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
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

// GoOffline makes the fake unreachable: every connection, open or new, is
// closed before a request is read. Its port stays bound, so that no other
// server started meanwhile can answer in its place.
func (s *Server) GoOffline() {
	s.offline.Store(true)
	s.srv.CloseClientConnections()
}

// dropListener closes the connections it accepts while offline.
type dropListener struct {
	net.Listener
	offline *atomic.Bool
}

// Accept implements net.Listener.
func (l dropListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil || !l.offline.Load() {
			return c, err
		}
		c.Close()
	}
}

// IssueToken makes a token as if approved; expiresAt zero means never.
func (s *Server) IssueToken(user string, scopes []string, expiresAt time.Time) *Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueLocked(user, "test token", scopes, expiresAt)
}

func (s *Server) issueLocked(user, name string, scopes []string, expiresAt time.Time) *Token {
	s.seq++
	t := &Token{
		Secret:    "gth_" + randomBase62(36),
		ID:        fmt.Sprintf("tok_%d", s.seq),
		Name:      name,
		User:      user,
		Scopes:    slices.Clone(scopes),
		ExpiresAt: expiresAt,
	}
	s.tokens[t.Secret] = t
	return t
}

// Lookup returns a copy of the token with that secret, or nil.
func (s *Server) Lookup(secret string) *Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[secret]
	if !ok {
		return nil
	}
	c := *t
	return &c
}

// Revoke revokes a token as if from the PAT page.
func (s *Server) Revoke(secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tokens[secret]; ok {
		t.Revoked = true
	}
}

// DisableUser disables a user; their tokens are refused.
func (s *Server) DisableUser(user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.disabled[user] = true
}

// RequireScopes makes a path (exact) need all of scopes.
func (s *Server) RequireScopes(path string, scopes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scopes[path] = scopes
}

// RateLimit answers the next n authenticated requests 429 with
// Retry-After retryAfter seconds.
func (s *Server) RateLimit(n, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limited, s.retry = n, retryAfter
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

// Requests returns what the fake has received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
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

func (s *Server) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone()}
		if strings.HasPrefix(r.URL.Path, "/api/oauth/") {
			_ = r.ParseForm()
			rec.Form = r.PostForm
		} else {
			body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			rec.Body = string(body)
			r.Body = io.NopCloser(strings.NewReader(rec.Body))
		}
		s.mu.Lock()
		s.requests = append(s.requests, rec)
		s.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

func (s *Server) deviceCode(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("client_id") == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "client_id is required"})
		return
	}
	days, _ := strconv.Atoi(r.PostForm.Get("expires_days"))
	s.mu.Lock()
	defer s.mu.Unlock()
	g := &grant{
		req: DeviceRequest{
			UserCode:    userCode(),
			ClientID:    r.PostForm.Get("client_id"),
			Scopes:      strings.Fields(r.PostForm.Get("scope")),
			TokenName:   r.PostForm.Get("token_name"),
			ExpiresDays: days,
		},
		deviceCd: randomBase62(40),
		expires:  time.Now().Add(time.Duration(s.expiresIn) * time.Second),
	}
	s.grants[g.deviceCd] = g
	verify := "http://" + r.Host + "/device"
	writeJSON(w, http.StatusOK, map[string]any{
		"device_code":               g.deviceCd,
		"user_code":                 g.req.UserCode,
		"verification_uri":          verify,
		"verification_uri_complete": verify + "?user_code=" + g.req.UserCode,
		"expires_in":                s.expiresIn,
		"interval":                  s.interval,
	})
}

func (s *Server) deviceToken(w http.ResponseWriter, r *http.Request) {
	oauthErr := func(code, desc string) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": code, "error_description": desc})
	}
	if err := r.ParseForm(); err != nil {
		oauthErr("invalid_request", "bad form")
		return
	}
	if r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:device_code" {
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
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": "rate_limited", "message": "slow down"})
		return
	}
	g, ok := s.grants[r.PostForm.Get("device_code")]
	if !ok || g.req.ClientID != r.PostForm.Get("client_id") {
		s.mu.Unlock()
		oauthErr("invalid_grant", "unknown device code")
		return
	}
	g.req.Polls++
	if time.Now().After(g.expires) {
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
	default:
		g.issued = true
		t := s.approveLocked(g)
		body := map[string]any{"access_token": t.Secret, "token_type": "Bearer", "scope": strings.Join(t.Scopes, " ")}
		if !t.ExpiresAt.IsZero() {
			body["expires_in"] = int(time.Until(t.ExpiresAt).Seconds())
		}
		writeJSON(w, http.StatusOK, body)
	}
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
		exp = time.Now().Add(time.Duration(days) * 24 * time.Hour).Truncate(time.Second)
	}
	return s.issueLocked(user, name, scopes, exp)
}

// authed checks the Bearer token as Gatehouse does (RFC 6750 denials),
// applies the rate limit, and sets Gatehouse-Token-Expiration.
func (s *Server) authed(next func(http.ResponseWriter, *http.Request, *Token)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		if h == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized", "message": "authentication required"})
			return
		}
		secret, ok := strings.CutPrefix(h, "Bearer ")
		deny := func(desc string) {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="gatehouse", error="invalid_token", error_description=%q`, desc))
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "message": desc})
		}
		if !ok || !strings.HasPrefix(secret, "gth_") || len(secret) != 40 {
			deny("malformed token")
			return
		}
		s.mu.Lock()
		t, known := s.tokens[secret]
		var tok Token
		if known {
			tok = *t
		}
		disabled := known && s.disabled[t.User]
		limited := s.limited > 0
		if limited {
			s.limited--
		}
		retry := s.retry
		need := s.scopes[r.URL.Path]
		s.mu.Unlock()
		switch {
		case !known:
			deny("unknown token")
			return
		case !tok.ExpiresAt.IsZero() && time.Now().After(tok.ExpiresAt):
			w.Header().Set("Gatehouse-Token-Expiration", tok.ExpiresAt.UTC().Format("2006-01-02 15:04:05 UTC"))
			deny("token expired")
			return
		case tok.Revoked:
			deny("token revoked")
			return
		case disabled:
			deny("user disabled")
			return
		}
		if !tok.ExpiresAt.IsZero() {
			w.Header().Set("Gatehouse-Token-Expiration", tok.ExpiresAt.UTC().Format("2006-01-02 15:04:05 UTC"))
		}
		if limited {
			w.Header().Set("Retry-After", strconv.Itoa(retry))
			writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": "rate_limited", "message": "rate limit exceeded"})
			return
		}
		for _, sc := range need {
			if !slices.Contains(tok.Scopes, sc) {
				w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="gatehouse", error="insufficient_scope", scope=%q`, sc))
				w.Header().Set("Gatehouse-Accepted-Scopes", strings.Join(need, ", "))
				writeJSON(w, http.StatusForbidden, map[string]string{"error": "insufficient_scope", "message": "insufficient scope: this token lacks " + sc})
				return
			}
		}
		next(w, r, &tok)
	}
}

func (s *Server) whoami(w http.ResponseWriter, _ *http.Request, t *Token) {
	body := map[string]any{
		"user_id": "u_" + t.User, "login": t.User, "tier": "free", "credential": "pat",
		"scopes": t.Scopes, "token_id": t.ID, "token_name": t.Name, "token_hint": t.Hint(),
	}
	if !t.ExpiresAt.IsZero() {
		body["expires_at"] = t.ExpiresAt.UTC().Format(time.RFC3339)
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) revoke(w http.ResponseWriter, _ *http.Request, t *Token) {
	s.mu.Lock()
	s.tokens[t.Secret].Revoked = true
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"revoked": true, "token_id": t.ID})
}

// echo answers any other path with what it received; /status/NNN answers
// NNN.
func (s *Server) echo(w http.ResponseWriter, r *http.Request, t *Token) {
	body, _ := io.ReadAll(r.Body)
	status := http.StatusOK
	if code, ok := strings.CutPrefix(r.URL.Path, "/status/"); ok {
		if n, err := strconv.Atoi(code); err == nil && n >= 200 && n < 600 {
			status = n
		}
	}
	resp := map[string]any{
		"method": r.Method, "path": r.URL.Path, "query": r.URL.RawQuery, "body": string(body),
		"content_type": r.Header.Get("Content-Type"), "user": t.User,
	}
	if status >= 400 {
		resp["error"] = "test_error"
		resp["message"] = "status " + strconv.Itoa(status) + " as asked"
	}
	writeJSON(w, status, resp)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func randomBase62(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = base62[int(b[i])%len(base62)]
	}
	return string(b)
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
