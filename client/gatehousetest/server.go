package gatehousetest

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/api"
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

	clock          atomic.Pointer[time.Time] // nil: the wall clock
	accessTTL      time.Duration
	refreshTTL     time.Duration
	grace          time.Duration
	deviceSessions bool
	users          map[string]*user
	sessions       map[string]*Session
	access         map[string]*access
	refresh        map[string]*refreshRecord
	rotations      int
	refreshCalls   int
	logins         int
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
	// SessionID is set for a session's access token (ExpiresAt is then
	// the session's end).
	SessionID string
}

// Hint is the token's display hint.
func (t *Token) Hint() string { return t.Secret[:8] + "****" }

// Request is a request the fake received.
type Request struct {
	Method string
	Path   string
	Header http.Header
	Form   url.Values // form endpoints only: device, session, refresh
	Body   string     // other endpoints
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

		accessTTL:      DefaultAccessTTL,
		refreshTTL:     DefaultRefreshTTL,
		grace:          DefaultRefreshGrace,
		deviceSessions: true,
		users:          map[string]*user{},
		sessions:       map[string]*Session{},
		access:         map[string]*access{},
		refresh:        map[string]*refreshRecord{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+api.PathDeviceCode, s.deviceCode)
	mux.HandleFunc("POST "+api.PathDeviceToken, s.deviceToken)
	mux.HandleFunc("GET "+api.PathWhoami, s.authed(s.whoami))
	mux.HandleFunc("POST "+api.PathRevoke, s.authed(s.revoke))
	mux.HandleFunc("POST "+api.PathSession, s.sessionLogin)
	mux.HandleFunc("POST "+api.PathLogout, s.authed(s.logout))
	mux.HandleFunc("POST "+api.PathRefresh, s.refreshSession)
	mux.HandleFunc("/", s.authed(s.echo))
	s.srv = httptest.NewUnstartedServer(s.record(mux))
	s.srv.Listener = dropListener{Listener: s.srv.Listener, offline: &s.offline}
	s.srv.Start()
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
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

// Requests returns what the fake has received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

func (s *Server) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone()}
		if strings.HasPrefix(r.URL.Path, "/api/oauth/") || r.URL.Path == api.PathSession || r.URL.Path == api.PathRefresh {
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
