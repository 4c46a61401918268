package integration

import (
	"strings"
	"testing"
)

// TestGatehouseCLIRateLimited: the gateway's 429 as the binary handles it.
// A GET waits out Retry-After once and succeeds; a POST is not retried
// and says when to try again.
func TestGatehouseCLIRateLimited(t *testing.T) {
	// One request a second, no burst: every request right after another
	// is refused with Retry-After: 1.
	g := newLimitedGateway(t, setup{
		global: defaultGlobal + "\ntier free 60/1m burst 1\ndefault_tier free",
		site:   "endpoints\n" + defaultSite,
	})
	g.dumpLogOnFailure()
	g.addUser("alice")
	h := newCLIHome(t)
	host := cliHost()
	tok := g.mint("alice", 30, "papers:read", "papers:write")
	// The login's whoami spends this second's request…
	h.mustRun(strings.NewReader(tok+"\n"), "auth", "login", "-s", host, "--with-token")

	// …so this GET is refused, waited out and retried once.
	hits := g.upstream.hitCount()
	res := h.mustRun(nil, "api", "/api/papers/1")
	if !strings.Contains(res.stderr, "! rate limited by "+host+"; retrying in 1s") || !strings.Contains(res.stdout, `"path":"/api/papers/1"`) {
		t.Errorf("rate-limited GET:\n%v", res)
	}
	if g.upstream.hitCount() != hits+1 {
		t.Errorf("the upstream got %d requests, want 1", g.upstream.hitCount()-hits)
	}

	// A write is never retried: the answer says when to try again.
	res = h.run(nil, "api", "-X", "POST", "-d", "title=On+Gates", "/api/papers/1")
	if res.code != 1 || !strings.Contains(res.stderr, "gatehouse: rate limited by "+host+"; retry in 1s") || strings.Contains(res.stderr, "retrying") {
		t.Errorf("rate-limited POST:\n%v", res)
	}
	if g.upstream.hitCount() != hits+1 {
		t.Error("the refused POST reached the upstream")
	}
	h.assertNeverPrinted(tok)
}
