package integration

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/client"
)

// TestGatehouseCLIExpiredToken: a stored token that has expired since it
// was stored. Every command names the expiry and the login that fixes it,
// as the design's "401: token expired → run gatehouse auth login -s HOST".
func TestGatehouseCLIExpiredToken(t *testing.T) {
	// The store is prepared before the server opens it: nothing on the
	// admin API mints a token that expired yesterday.
	storePath := filepath.Join(t.TempDir(), "gatehouse.db")
	st, err := authstore.Open(storePath, authstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.CreateUser(authstore.NewUser{Login: "alice"}, authstore.AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	expiredAt := time.Now().Add(-26 * time.Hour).UTC().Truncate(time.Second)
	tok, pat, err := st.CreatePAT(authstore.NewPAT{UserID: u.ID, Prefix: "qat_", Name: "old laptop",
		Scopes: []string{"papers:read"}, ExpiresAt: expiredAt, CreatedVia: authstore.ViaDevice}, authstore.AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	g := newGateway(t, setup{site: "endpoints\n" + defaultSite, store: storePath})
	g.dumpLogOnFailure()
	h := newCLIHome(t)
	host := cliHost()

	// A token piped in that has expired is refused at login.
	res := h.run(strings.NewReader(tok+"\n"), "auth", "login", "-s", host, "--with-token")
	expired := "token for " + host + " expired on " + client.FormatTime(expiredAt) + "; run: gatehouse auth login -s " + host
	if res.code != 1 || !strings.Contains(res.stderr, expired) {
		t.Errorf("logging in with an expired token, want %q:\n%v", expired, res)
	}

	// One stored a month ago, while it was valid, as the CLI stores it.
	err = client.NewStore(h.hostsPath()).Update(context.Background(), func(f *client.HostsFile) error {
		f.SetHost("http://"+host, &client.Host{Token: tok, User: "alice", AddedAt: expiredAt.AddDate(0, -1, 0),
			TokenID: pat.ID, TokenHint: pat.Hint, TokenName: pat.Name, Scopes: pat.Scopes, ExpiresAt: expiredAt})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	res = h.run(nil, "api", "/api/papers/1")
	if res.code != 1 || !strings.Contains(res.stderr, expired) || !strings.Contains(res.stdout, "invalid_token") {
		t.Errorf("api with an expired token, want %q:\n%v", expired, res)
	}
	res = h.run(nil, "auth", "status")
	if res.code != 1 || !strings.Contains(res.stdout, "✗ "+host) ||
		!strings.Contains(res.stdout, "expired on "+client.FormatTime(expiredAt)+"; run: gatehouse auth login -s "+host) {
		t.Errorf("status with an expired token:\n%v", res)
	}
	res = h.mustRun(nil, "auth", "logout")
	if !strings.Contains(res.stderr, "already refuses the token "+pat.Hint) || !strings.Contains(res.stdout, "✓ Logged out of "+host) {
		t.Errorf("logout with an expired token:\n%v", res)
	}
	h.assertNeverPrinted(tok)
	g.assertNotLogged(tok)
}
