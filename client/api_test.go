package client_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/client"
	"github.com/gatehouse/gatehouse/client/gatehousetest"
)

func newClient(t *testing.T, srv *gatehousetest.Server, tok *gatehousetest.Token) *client.Client {
	t.Helper()
	host, err := client.NormalizeHost(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	c := &client.Client{Host: host}
	if tok != nil {
		c.Token = tok.Secret
		c.TokenScopes = tok.Scopes
		c.TokenExpiresAt = tok.ExpiresAt
	}
	return c
}

func TestWhoami(t *testing.T) {
	srv := gatehousetest.NewServer(t)
	exp := time.Now().Add(48 * time.Hour).Truncate(time.Second).UTC()
	tok := srv.IssueToken("alice", []string{"wiki:read"}, exp)
	w, err := newClient(t, srv, tok).Whoami(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if w.Login != "alice" || w.TokenHint != tok.Hint() || w.TokenID != tok.ID || !w.ExpiresAt.Equal(exp) ||
		len(w.Scopes) != 1 || w.Credential != "pat" {
		t.Fatalf("Whoami = %+v", w)
	}

	never := srv.IssueToken("bob", nil, time.Time{})
	w, err = newClient(t, srv, never).Whoami(t.Context())
	if err != nil || !w.ExpiresAt.IsZero() {
		t.Fatalf("Whoami of a non-expiring token = %+v, %v", w, err)
	}
}

func TestWhoamiDenials(t *testing.T) {
	srv := gatehousetest.NewServer(t)
	expired := srv.IssueToken("alice", nil, time.Now().Add(-time.Hour))
	revoked := srv.IssueToken("alice", nil, time.Time{})
	srv.Revoke(revoked.Secret)
	disabled := srv.IssueToken("mallory", nil, time.Time{})
	srv.DisableUser("mallory")
	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"expired", expired.Secret, client.ErrTokenExpired},
		{"revoked", revoked.Secret, client.ErrTokenRevoked},
		{"unknown", "gth_" + strings.Repeat("x", 36), client.ErrTokenInvalid},
		{"malformed", "nope", client.ErrTokenInvalid},
		{"disabled", disabled.Secret, client.ErrUserDisabled},
		{"none", "", client.ErrNoCredential},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, srv, nil)
			c.Token = tt.token
			_, err := c.Whoami(t.Context())
			if !errors.Is(err, tt.want) {
				t.Fatalf("Whoami error = %v, want %v", err, tt.want)
			}
			var ae *client.AuthError
			if !errors.As(err, &ae) {
				t.Fatalf("error %T is not an AuthError", err)
			}
		})
	}
	// The expired token's date comes from the server's header.
	c := newClient(t, srv, nil)
	c.Token = expired.Secret
	_, err := c.Whoami(t.Context())
	if want := "expired on " + client.FormatTime(expired.ExpiresAt); !strings.Contains(err.Error(), want) {
		t.Fatalf("message %q lacks %q", err, want)
	}
}

func TestRevoke(t *testing.T) {
	srv := gatehousetest.NewServer(t)
	tok := srv.IssueToken("alice", nil, time.Time{})
	c := newClient(t, srv, tok)
	r, err := c.Revoke(t.Context())
	if err != nil || !r.Revoked || r.TokenID != tok.ID {
		t.Fatalf("Revoke = %+v, %v", r, err)
	}
	if !srv.Lookup(tok.Secret).Revoked {
		t.Fatal("the server did not revoke the token")
	}
	if _, err := c.Revoke(t.Context()); !errors.Is(err, client.ErrTokenRevoked) {
		t.Fatalf("second Revoke = %v, want ErrTokenRevoked", err)
	}
}

func TestDo(t *testing.T) {
	srv := gatehousetest.NewServer(t)
	exp := time.Now().Add(72 * time.Hour).Truncate(time.Second).UTC()
	tok := srv.IssueToken("alice", []string{"wiki:read"}, exp)
	c := newClient(t, srv, tok)
	resp, err := c.Do(t.Context(), &client.Request{
		Method: "POST",
		Path:   "/v1/papers?x=1",
		Body:   []byte(`{"title":"t"}`),
		Header: http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer stolen"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var echo map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&echo); err != nil {
		t.Fatal(err)
	}
	if echo["method"] != "POST" || echo["path"] != "/v1/papers" || echo["query"] != "x=1" ||
		echo["body"] != `{"title":"t"}` || echo["user"] != "alice" || echo["content_type"] != "application/json" {
		t.Fatalf("server saw %v", echo)
	}
	got, ok := client.TokenExpiration(resp.Header)
	if !ok || !got.Equal(exp) {
		t.Fatalf("TokenExpiration = %v, %v; want %v", got, ok, exp)
	}
	reqs := srv.Requests()
	if auth := reqs[len(reqs)-1].Header.Values("Authorization"); len(auth) != 1 || auth[0] != "Bearer "+tok.Secret {
		t.Fatalf("Authorization sent = %q", auth)
	}
}

func TestDoScopeError(t *testing.T) {
	srv := gatehousetest.NewServer(t)
	srv.RequireScopes("/v1/papers", "papers:write")
	tok := srv.IssueToken("alice", []string{"wiki:read"}, time.Time{})
	resp, err := newClient(t, srv, tok).Do(t.Context(), &client.Request{Method: "POST", Path: "/v1/papers"})
	var se *client.ScopeError
	if !errors.As(err, &se) || se.Missing[0] != "papers:write" {
		t.Fatalf("Do = %v, want a ScopeError for papers:write", err)
	}
	if resp == nil || resp.StatusCode != 403 {
		t.Fatalf("response = %v, want the 403", resp)
	}
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "insufficient_scope") {
		t.Fatalf("body not replayed: %q", body)
	}
	if want := "--scopes wiki:read,papers:write"; !strings.Contains(err.Error(), want) {
		t.Fatalf("message %q lacks %q", err, want)
	}
}

func TestDoRateLimitRetriesGETOnce(t *testing.T) {
	srv := gatehousetest.NewServer(t)
	tok := srv.IssueToken("alice", nil, time.Time{})
	c := newClient(t, srv, tok)
	var told []time.Duration
	c.OnRetry = func(wait time.Duration, _ *client.RateLimitError) { told = append(told, wait) }

	srv.RateLimit(1, 1)
	start := time.Now()
	resp, err := c.Do(t.Context(), &client.Request{Path: "/v1/x"})
	if err != nil {
		t.Fatalf("GET after one 429: %v", err)
	}
	resp.Body.Close()
	if time.Since(start) < time.Second || len(told) != 1 || told[0] != time.Second {
		t.Fatalf("did not wait out Retry-After: %v, told %v", time.Since(start), told)
	}

	srv.RateLimit(2, 1) // twice in a row: one retry only
	told = nil
	if _, err := c.Do(t.Context(), &client.Request{Path: "/v1/x"}); !errors.Is(err, client.ErrRateLimited) {
		t.Fatalf("GET after two 429s = %v, want ErrRateLimited", err)
	}
	if len(told) != 1 {
		t.Fatalf("retried %d times", len(told))
	}

	srv.RateLimit(1, 1) // POST: never retried
	told = nil
	if _, err := c.Do(t.Context(), &client.Request{Method: "POST", Path: "/v1/x"}); !errors.Is(err, client.ErrRateLimited) || len(told) != 0 {
		t.Fatalf("POST after a 429 = %v (retries %d), want ErrRateLimited at once", err, len(told))
	}

	srv.RateLimit(1, 3600) // too long to wait: says when instead
	start = time.Now()
	_, err = c.Do(t.Context(), &client.Request{Path: "/v1/x"})
	if !errors.Is(err, client.ErrRateLimited) || time.Since(start) > 5*time.Second || !strings.Contains(err.Error(), "retry in 1h0m0s") {
		t.Fatalf("GET with a long Retry-After = %v after %v", err, time.Since(start))
	}
	srv.RateLimit(0, 0)
}

func TestDoNoRetryOfAuthErrors(t *testing.T) {
	var hits atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse", error="invalid_token", error_description="token expired"`)
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(401)
	}))
	defer ts.Close()
	host, _ := client.NormalizeHost(ts.URL)
	c := &client.Client{Host: host, Token: "gth_x"}
	if _, err := c.Do(t.Context(), &client.Request{Path: "/"}); !errors.Is(err, client.ErrTokenExpired) {
		t.Fatalf("Do = %v", err)
	}
	if hits.Load() != 1 {
		t.Fatalf("server hit %d times, want 1", hits.Load())
	}
}

func TestDoDoesNotFollowRedirectsToAnotherOrigin(t *testing.T) {
	var leaked atomic.Value
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Store(r.Header.Get("Authorization"))
	}))
	defer other.Close()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/same":
			http.Redirect(w, r, "/final", http.StatusFound)
		case "/final":
			w.Write([]byte(r.Header.Get("Authorization")))
		default:
			http.Redirect(w, r, other.URL+"/steal", http.StatusFound)
		}
	}))
	defer ts.Close()
	host, _ := client.NormalizeHost(ts.URL)
	c := &client.Client{Host: host, Token: "gth_secret"}

	resp, err := c.Do(t.Context(), &client.Request{Path: "/same"})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "Bearer gth_secret" {
		t.Fatalf("same-origin redirect lost the token: %q", body)
	}

	resp, err = c.Do(t.Context(), &client.Request{Path: "/away"})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || leaked.Load() != nil {
		t.Fatalf("followed a redirect to another origin (status %d, leaked %v)", resp.StatusCode, leaked.Load())
	}
}

func TestDoPathsStayOnTheHost(t *testing.T) {
	srv := gatehousetest.NewServer(t)
	tok := srv.IssueToken("alice", nil, time.Time{})
	c := newClient(t, srv, tok)
	for _, p := range []string{"//evil.example/x", "@evil.example/x", "v1/x"} {
		resp, err := c.Do(t.Context(), &client.Request{Path: p})
		if err != nil {
			t.Fatalf("Do(%q): %v", p, err)
		}
		resp.Body.Close()
		reqs := srv.Requests()
		// The fake's mux may clean the path with a same-origin redirect.
		if got := reqs[len(reqs)-1].Path; !strings.HasSuffix(got, strings.TrimPrefix(p, "/")) {
			t.Errorf("Do(%q) reached path %q", p, got)
		}
	}
}

func TestTokenExpiration(t *testing.T) {
	tests := map[string]string{
		"2026-09-01 00:00:00 UTC":   "2026-09-01T00:00:00Z",
		"2026-09-01 02:00:00 +0200": "2026-09-01T00:00:00Z",
		"2026-09-01T00:00:00Z":      "2026-09-01T00:00:00Z",
		"garbage":                   "",
		"":                          "",
	}
	for in, want := range tests {
		h := http.Header{}
		if in != "" {
			h.Set(client.TokenExpirationHeader, in)
		}
		got, ok := client.TokenExpiration(h)
		if (want == "") == ok {
			t.Errorf("TokenExpiration(%q) ok = %v", in, ok)
			continue
		}
		if ok && got.Format(time.RFC3339) != want {
			t.Errorf("TokenExpiration(%q) = %v, want %s", in, got, want)
		}
	}
}
