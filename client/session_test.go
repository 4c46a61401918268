package client_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/client"
	"github.com/gatehouse/gatehouse/client/gatehousetest"
)

// sessionSetup is a fake with alice, a store holding her session, and a
// client whose requests renew it.
type sessionSetup struct {
	srv   *gatehousetest.Server
	store *client.Store
	key   string
}

func newSessionSetup(t *testing.T) *sessionSetup {
	t.Helper()
	srv := gatehousetest.NewServer(t)
	srv.SetNow(time.Now())
	srv.AddUser("alice", "alice password", "")
	key, err := client.NormalizeHost(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	st := &sessionSetup{srv: srv, store: client.NewStore(filepath.Join(t.TempDir(), "gatehouse", client.HostsFileName)), key: key}
	tokens, err := st.bare().PasswordLogin(t.Context(), "alice", "alice password", "")
	if err != nil {
		t.Fatal(err)
	}
	acct := &client.Host{User: "alice", AddedAt: time.Now().UTC()}
	tokens.Apply(acct)
	if err := st.store.Update(t.Context(), func(f *client.HostsFile) error { f.SetAccount(key, acct); return nil }); err != nil {
		t.Fatal(err)
	}
	return st
}

// bare is a client without credentials.
func (st *sessionSetup) bare() *client.Client { return &client.Client{Host: st.key} }

// process is one process's client: credentials of its own, read from the
// store, as a new `gatehouse` command would have.
func (st *sessionSetup) process(t *testing.T) (*client.Client, *client.StoredCredentials) {
	t.Helper()
	f, err := st.store.Load()
	if err != nil {
		t.Fatal(err)
	}
	_, acct, err := f.Resolve(st.key, "")
	if err != nil {
		t.Fatal(err)
	}
	c := st.bare()
	creds := client.NewStoredCredentials(st.store, st.key, acct, st.bare())
	c.Credentials = creds
	return c, creds
}

func (st *sessionSetup) stored(t *testing.T) *client.Host {
	t.Helper()
	f, err := st.store.Load()
	if err != nil {
		t.Fatal(err)
	}
	return f.Host(st.key)
}

func get(t *testing.T, c *client.Client, path string) error {
	t.Helper()
	resp, err := c.Do(t.Context(), &client.Request{Path: path})
	if resp != nil {
		resp.Body.Close()
	}
	return err
}

// TestTransparentRefresh: an access token the server calls expired is
// refreshed once and the request sent again; the new tokens are stored,
// and the next process uses them without refreshing.
func TestTransparentRefresh(t *testing.T) {
	t.Parallel()
	st := newSessionSetup(t)
	c, _ := st.process(t)
	if err := get(t, c, "/v1/x"); err != nil {
		t.Fatal(err)
	}
	before := st.stored(t)
	// The server's clock moves past the access token; the client's does
	// not, so only the server's 401 tells.
	st.srv.Advance(gatehousetest.DefaultAccessTTL + time.Minute)
	if err := get(t, c, "/v1/x"); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if n := st.srv.Rotations(); n != 1 {
		t.Fatalf("%d rotations, want 1", n)
	}
	after := st.stored(t)
	if after.Token == before.Token || after.RefreshToken == before.RefreshToken || after.State != "" {
		t.Errorf("the refreshed tokens were not stored")
	}
	c2, _ := st.process(t)
	if err := get(t, c2, "/v1/x"); err != nil || st.srv.RefreshCalls() != 1 {
		t.Errorf("the next process: %v, %d refresh calls", err, st.srv.RefreshCalls())
	}
}

// TestRefreshOncePerStaleToken: twenty goroutines of one process and ten
// processes (each with credentials of its own, sharing hosts.yml) hit an
// expired access token together; exactly one refresh reaches the server
// and every request succeeds. The same again after the grace window of
// that rotation has passed, where a second refresh of the same token
// would have revoked the session.
func TestRefreshOncePerStaleToken(t *testing.T) {
	t.Parallel()
	st := newSessionSetup(t)
	shared, _ := st.process(t)
	for round := 1; round <= 2; round++ {
		st.srv.Advance(gatehousetest.DefaultAccessTTL + gatehousetest.DefaultRefreshGrace + time.Minute)
		clients := []*client.Client{}
		for range 20 {
			clients = append(clients, shared)
		}
		for range 10 {
			c, _ := st.process(t)
			clients = append(clients, c)
		}
		var wg sync.WaitGroup
		errs := make([]error, len(clients))
		for i, c := range clients {
			wg.Go(func() { errs[i] = get(t, c, "/v1/x") })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("round %d, request %d: %v", round, i, err)
			}
		}
		if n := st.srv.Rotations(); n != round {
			t.Fatalf("round %d: %d rotations in all, want %d", round, n, round)
		}
		if n := st.srv.RefreshCalls(); n != round {
			t.Fatalf("round %d: %d refresh requests in all, want %d", round, n, round)
		}
	}
	for _, s := range st.srv.Sessions("alice") {
		if s.Revoked {
			t.Errorf("session revoked: %s", s.Reason)
		}
	}
}

// TestInvalidated: a session the server refuses for good (revoked: its
// access token is refused as such; expired: its refresh is refused) is
// marked invalidated; later requests fail at once, without a refresh or a
// request, and say to log in again. A revoked access token is never
// refreshed: no blind retries on auth errors.
func TestInvalidated(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		kill      func(*gatehousetest.Server)
		first     error
		refreshes int
	}{
		{"revoked", func(srv *gatehousetest.Server) { srv.RevokeSession(srv.Sessions("alice")[0].ID) }, client.ErrTokenRevoked, 0},
		{"session expired", func(srv *gatehousetest.Server) { srv.Advance(gatehousetest.DefaultRefreshTTL + time.Minute) }, client.ErrSessionInvalidated, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := newSessionSetup(t)
			c, _ := st.process(t)
			tc.kill(st.srv)
			err := get(t, c, "/v1/x")
			if !errors.Is(err, tc.first) || !strings.Contains(err.Error(), "auth login -s") {
				t.Fatalf("first request: %v, want %v", err, tc.first)
			}
			if got := st.stored(t).State; got != client.StateInvalidated {
				t.Errorf("state %q, want invalidated", got)
			}
			calls, reqs := st.srv.RefreshCalls(), len(st.srv.Requests())
			if calls != tc.refreshes {
				t.Errorf("%d refreshes, want %d", calls, tc.refreshes)
			}
			c2, _ := st.process(t)
			var le *client.LoginError
			if err := get(t, c2, "/v1/x"); !errors.As(err, &le) || !errors.Is(err, client.ErrSessionInvalidated) {
				t.Errorf("after invalidation: %v", err)
			}
			if st.srv.RefreshCalls() != calls || len(st.srv.Requests()) != reqs {
				t.Errorf("an invalidated session still reached the server")
			}
		})
	}
}

// TestStreamRefreshesAhead: a body that cannot be sent twice goes out
// with a token renewed ahead when the token is within RefreshAhead of its
// expiry, so it is sent once; a replayable body is not renewed early.
func TestStreamRefreshesAhead(t *testing.T) {
	t.Parallel()
	st := newSessionSetup(t)
	c, _ := st.process(t)
	exp := st.stored(t).ExpiresAt
	c.Now = func() time.Time { return exp.Add(-30 * time.Second) }
	if err := get(t, c, "/v1/replayable"); err != nil || st.srv.RefreshCalls() != 0 {
		t.Fatalf("replayable body: %v, %d refreshes", err, st.srv.RefreshCalls())
	}
	resp, err := c.Do(t.Context(), &client.Request{Method: http.MethodPost, Path: "/v1/upload", Stream: bytes.NewBufferString("once")})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if st.srv.RefreshCalls() != 1 {
		t.Errorf("%d refreshes before a stream, want 1", st.srv.RefreshCalls())
	}
	uploads := 0
	for _, r := range st.srv.Requests() {
		if r.Path == "/v1/upload" {
			uploads++
			if r.Body != "once" {
				t.Errorf("body %q", r.Body)
			}
		}
	}
	if uploads != 1 {
		t.Errorf("the stream was sent %d times", uploads)
	}
	if _, err := c.Do(t.Context(), &client.Request{Path: "/x", Body: []byte("a"), Stream: strings.NewReader("b")}); err == nil {
		t.Error("a request with a Body and a Stream was sent")
	}
}

// TestPasswordLogin: the one answer for a wrong login, totp_required only
// after the right password, and the code then logs in.
func TestPasswordLogin(t *testing.T) {
	t.Parallel()
	srv := gatehousetest.NewServer(t)
	srv.AddUser("bob", "bob password", "123456")
	c := &client.Client{Host: srv.URL}
	ctx := context.Background()
	for _, tc := range []struct {
		pw, code string
		want     error
	}{
		{"wrong", "", client.ErrBadCredentials},
		{"bob password", "", client.ErrTOTPRequired},
		{"bob password", "654321", client.ErrBadCredentials},
		{"bob password", "123456", nil},
	} {
		tok, err := c.PasswordLogin(ctx, "bob", tc.pw, tc.code)
		if !errors.Is(err, tc.want) || (tc.want == nil && (tok.RefreshToken == "" || tok.ExpiresAt.IsZero() || tok.RefreshExpiresAt.IsZero())) {
			t.Errorf("%q/%q: %v %v, want %v", tc.pw, tc.code, tok, err, tc.want)
		}
		if tok != nil && strings.Contains(tok.String()+fmtV(tok), tok.RefreshToken) {
			t.Error("the tokens print their secret")
		}
	}
	if srv.Logins() != 1 {
		t.Errorf("%d logins", srv.Logins())
	}
}

func fmtV(t *client.SessionTokens) string { return t.GoString() }

// TestFakeGraceWindow: the fake's refresh endpoint models the server's
// rotation: a second use of a refresh token within the grace window gets
// the same answer, a use after it revokes the session.
func TestFakeGraceWindow(t *testing.T) {
	t.Parallel()
	srv := gatehousetest.NewServer(t)
	srv.SetNow(time.Now())
	first := srv.StartSession("alice")
	c := &client.Client{Host: srv.URL}
	a, err := c.RefreshSession(t.Context(), first.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	srv.Advance(gatehousetest.DefaultRefreshGrace - time.Second)
	b, err := c.RefreshSession(t.Context(), first.RefreshToken)
	if err != nil || b.AccessToken != a.AccessToken || b.RefreshToken != a.RefreshToken {
		t.Fatalf("within the grace window: %v %v, want the same answer", b, err)
	}
	srv.Advance(2 * time.Second)
	_, err = c.RefreshSession(t.Context(), first.RefreshToken)
	if !errors.Is(err, client.ErrSessionInvalidated) || !strings.Contains(err.Error(), "already used") {
		t.Fatalf("after the grace window: %v", err)
	}
	if s := srv.Sessions("alice"); len(s) != 1 || !s[0].Revoked || s[0].Reason != "refresh token reuse" {
		t.Errorf("sessions %+v", s)
	}
	if _, err := c.RefreshSession(t.Context(), a.RefreshToken); !errors.Is(err, client.ErrSessionInvalidated) {
		t.Errorf("the successor of a reused token: %v", err)
	}
	if srv.Rotations() != 1 {
		t.Errorf("%d rotations", srv.Rotations())
	}
	_ = api.PathRefresh
}
