package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/client"
	"github.com/gatehouse/gatehouse/client/gatehousetest"
)

func TestDeviceLogin(t *testing.T) {
	t.Parallel()
	srv := gatehousetest.NewServer(t)
	srv.SetDecide(gatehousetest.ApproveAt(2, gatehousetest.Decision{User: "alice"}))
	c := newClient(t, srv, nil)
	dl, err := c.StartDeviceLogin(t.Context(), client.LoginOptions{
		Scopes: []string{"wiki:read", "papers:read"}, TokenName: "laptop", ExpiresDays: 30,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(dl.UserCode) != 9 || dl.VerificationURI != srv.URL+"/device" || dl.Interval != time.Second ||
		time.Until(dl.ExpiresAt) < 9*time.Minute {
		t.Fatalf("DeviceLogin = %+v", dl)
	}
	if want := srv.URL + "/device?user_code=" + dl.UserCode; dl.BrowserURL() != want {
		t.Fatalf("BrowserURL = %q, want %q", dl.BrowserURL(), want)
	}
	tok, err := dl.Wait(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	stored := srv.Lookup(tok.AccessToken)
	if stored == nil || stored.User != "alice" || stored.Name != "laptop" {
		t.Fatalf("token %v is %+v on the server", tok, stored)
	}
	if !slices.Equal(tok.Scopes, []string{"wiki:read", "papers:read"}) {
		t.Fatalf("scopes = %v", tok.Scopes)
	}
	if d := time.Until(tok.ExpiresAt); d < 29*24*time.Hour || d > 31*24*time.Hour {
		t.Fatalf("expires in %v, want about 30 days", d)
	}

	var code, polls int
	for _, r := range srv.Requests() {
		if r.Header.Get("Authorization") != "" {
			t.Errorf("%s %s carried an Authorization header", r.Method, r.Path)
		}
		switch r.Path {
		case "/api/oauth/device/code":
			code++
			f := r.Form
			if f.Get("client_id") != "gatehouse-cli" || f.Get("scope") != "wiki:read papers:read" ||
				f.Get("token_name") != "laptop" || f.Get("expires_days") != "30" {
				t.Errorf("device code request form = %v", f)
			}
		case "/api/oauth/device/token":
			polls++
			f := r.Form
			if f.Get("client_id") != "gatehouse-cli" || f.Get("grant_type") != "urn:ietf:params:oauth:grant-type:device_code" ||
				f.Get("device_code") == "" || f.Has("scope") || f.Has("token_name") || f.Has("expires_days") {
				t.Errorf("poll form = %v", f)
			}
		}
	}
	if code != 1 || polls != 2 {
		t.Fatalf("%d code requests and %d polls, want 1 and 2", code, polls)
	}
}

func TestDeviceLoginBrowserChoiceWins(t *testing.T) {
	t.Parallel()
	srv := gatehousetest.NewServer(t)
	srv.SetDecide(gatehousetest.ApproveAt(1, gatehousetest.Decision{Scopes: []string{"wiki:read"}, ExpiresDays: -1}))
	dl, err := newClient(t, srv, nil).StartDeviceLogin(t.Context(), client.LoginOptions{Scopes: []string{"wiki:read", "papers:write"}, ExpiresDays: 7})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := dl.Wait(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tok.Scopes, []string{"wiki:read"}) || !tok.ExpiresAt.IsZero() {
		t.Fatalf("token = scopes %v expiry %v; want the browser's choice", tok.Scopes, tok.ExpiresAt)
	}
}

func TestDeviceLoginDenied(t *testing.T) {
	t.Parallel()
	srv := gatehousetest.NewServer(t)
	srv.SetDecide(gatehousetest.ApproveAt(1, gatehousetest.Decision{Deny: true}))
	dl, err := newClient(t, srv, nil).StartDeviceLogin(t.Context(), client.LoginOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dl.Wait(t.Context()); !errors.Is(err, client.ErrAccessDenied) {
		t.Fatalf("Wait = %v, want ErrAccessDenied", err)
	}
}

func TestDeviceLoginCodeExpires(t *testing.T) {
	t.Parallel()
	srv := gatehousetest.NewServer(t)
	srv.SetExpiresIn(2)
	dl, err := newClient(t, srv, nil).StartDeviceLogin(t.Context(), client.LoginOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = dl.Wait(t.Context())
	if !errors.Is(err, client.ErrDeviceCodeExpired) {
		t.Fatalf("Wait = %v, want ErrDeviceCodeExpired", err)
	}
}

func TestDeviceLoginCallerTimeout(t *testing.T) {
	t.Parallel()
	srv := gatehousetest.NewServer(t)
	dl, err := newClient(t, srv, nil).StartDeviceLogin(t.Context(), client.LoginOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
	defer cancel()
	if _, err := dl.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, client.ErrDeviceCodeExpired) {
		t.Fatalf("Wait = %v, want the caller's deadline", err)
	}
}

func TestDeviceLoginSlowDown(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("takes 7 seconds")
	}
	srv := gatehousetest.NewServer(t)
	srv.SetSlowDown(1)
	srv.SetDecide(gatehousetest.ApproveAt(1, gatehousetest.Decision{}))
	dl, err := newClient(t, srv, nil).StartDeviceLogin(t.Context(), client.LoginOptions{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := dl.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	// 1 s, slow_down, then 1+5 s before the next poll.
	if d := time.Since(start); d < 7*time.Second {
		t.Fatalf("approved after %v: slow_down was not honoured", d)
	}
}

func TestDeviceLoginPollRateLimited(t *testing.T) {
	t.Parallel()
	srv := gatehousetest.NewServer(t)
	srv.SetDecide(gatehousetest.ApproveAt(1, gatehousetest.Decision{}))
	dl, err := newClient(t, srv, nil).StartDeviceLogin(t.Context(), client.LoginOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv.RateLimit(1, 1)
	if _, err := dl.Wait(t.Context()); err != nil {
		t.Fatalf("Wait after a 429 poll: %v", err)
	}
}

func TestDeviceLoginServerErrors(t *testing.T) {
	t.Parallel()
	notFound := httptest.NewServer(http.NotFoundHandler())
	defer notFound.Close()
	host, _ := client.NormalizeHost(notFound.URL)
	_, err := (&client.Client{Host: host}).StartDeviceLogin(t.Context(), client.LoginOptions{})
	if err == nil || !strings.Contains(err.Error(), "does not serve the device login at /api/oauth/device/code (404)") {
		t.Fatalf("StartDeviceLogin on a 404 = %v", err)
	}

	limited := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "20")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(429)
		w.Write([]byte(`{"error":"rate_limited","message":"too many"}`))
	}))
	defer limited.Close()
	host, _ = client.NormalizeHost(limited.URL)
	_, err = (&client.Client{Host: host}).StartDeviceLogin(t.Context(), client.LoginOptions{})
	var rl *client.RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter != 20*time.Second {
		t.Fatalf("StartDeviceLogin on a 429 = %v", err)
	}

	notFound.Close()
	host, _ = client.NormalizeHost(notFound.URL)
	_, err = (&client.Client{Host: host}).StartDeviceLogin(t.Context(), client.LoginOptions{})
	var ne *client.NetworkError
	if !errors.As(err, &ne) || !strings.Contains(err.Error(), "cannot reach "+client.DisplayHost(host)) {
		t.Fatalf("StartDeviceLogin on a closed server = %v", err)
	}
}

func TestDeviceLoginBadVerificationURI(t *testing.T) {
	t.Parallel()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"device_code":"d","user_code":"WDJB-MJHT","verification_uri":"file:///etc/passwd","verification_uri_complete":"javascript:alert(1)","expires_in":600,"interval":5}`))
	}))
	defer ts.Close()
	host, _ := client.NormalizeHost(ts.URL)
	dl, err := (&client.Client{Host: host}).StartDeviceLogin(t.Context(), client.LoginOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := dl.BrowserURL(); got != "" {
		t.Fatalf("BrowserURL = %q, want nothing to open", got)
	}
}

// TestDeviceLoginPollsNeverEarly: every poll reaches the server at least
// an interval after the previous one, with room to spare, so a server that
// measures the gap strictly never answers slow_down to a polite client.
func TestDeviceLoginPollsNeverEarly(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("takes 6 seconds")
	}
	var (
		mu    sync.Mutex
		polls []time.Time
	)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/api/oauth/device/code" {
			w.Write([]byte(`{"device_code":"d","user_code":"WDJB-MJHT","verification_uri":"http://x/device","expires_in":600,"interval":1}`))
			return
		}
		mu.Lock()
		polls = append(polls, time.Now())
		n := len(polls)
		mu.Unlock()
		if n < 3 {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":"authorization_pending"}`))
			return
		}
		w.Write([]byte(`{"access_token":"gth_x","token_type":"Bearer","scope":"a"}`))
	}))
	defer ts.Close()
	host, _ := client.NormalizeHost(ts.URL)
	dl, err := (&client.Client{Host: host}).StartDeviceLogin(t.Context(), client.LoginOptions{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := dl.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	prev := start
	for i, p := range polls {
		if gap := p.Sub(prev); gap < dl.Interval+dl.Interval/2 {
			t.Errorf("poll %d came %v after the previous one; the interval is %v", i+1, gap, dl.Interval)
		}
		prev = p
	}
}
