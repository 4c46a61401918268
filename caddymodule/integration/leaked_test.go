package integration

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/api"
)

// TestLeakedCredentialReport: a secret scanner's report needs no
// authentication and is answered 202 whatever it held; a reported PAT
// is refused on its next use and the revocation is audited as the
// scanner with its IP; bad reports are refused and change nothing; the
// endpoint has its own per-IP limit.
func TestLeakedCredentialReport(t *testing.T) {
	g := newGateway(t, setup{site: "endpoints\n" + defaultSite})
	g.addUser("alice")
	leaked := g.mint("alice", 7, "papers:read")
	kept := g.mint("alice", 7, "papers:read")
	report := func(body string) (*http.Response, []byte) {
		t.Helper()
		return g.do("POST", "/api/credentials/revoke", strings.NewReader(body), "Content-Type: application/json")
	}

	// Bad reports: nothing changes.
	tooMany, _ := json.Marshal(api.RevokeCredentialsRequest{Credentials: make([]string, 1001)})
	for _, body := range []string{`{"credentials":[]}`, string(tooMany), `{"credentials":["` + kept + `","` + strings.Repeat("x", 3000) + `"]}`, `[1,2]`, `{"tokens":["x"]}`} {
		if resp, b := report(body); resp.StatusCode != 400 {
			t.Errorf("%.60s: %d %s", body, resp.StatusCode, b)
		}
	}
	if resp, _ := g.get("/api/papers/1", "Authorization: Bearer "+kept); resp.StatusCode != 200 {
		t.Fatalf("a refused report revoked a token: %d", resp.StatusCode)
	}

	// A report of garbage and a report of a real token read the same.
	respJunk, junk := report(`{"credentials":["qat_nothing","hello"]}`)
	respReal, real := report(`{"credentials":["hello","` + leaked + `"]}`)
	if respJunk.StatusCode != 202 || respReal.StatusCode != 202 || string(junk) != string(real) {
		t.Errorf("answers differ: %d %s / %d %s", respJunk.StatusCode, junk, respReal.StatusCode, real)
	}
	if resp, _ := g.get("/api/papers/1", "Authorization: Bearer "+leaked); resp.StatusCode != 401 {
		t.Errorf("the reported token still works: %d", resp.StatusCode)
	}
	if resp, _ := g.get("/api/papers/1", "Authorization: Bearer "+kept); resp.StatusCode != 200 {
		t.Errorf("an unreported token stopped working: %d", resp.StatusCode)
	}
	var events []api.AuditEvent
	g.admin("GET", "/gatehouse/audit?limit=20", nil, &events)
	found := false
	for _, e := range events {
		if e.Action == "token.revoked" && e.Actor.Kind == "scanner" && e.Actor.IP == "127.0.0.1" {
			found = true
		}
	}
	if !found {
		t.Errorf("no scanner revocation in the audit trail: %+v", events)
	}
	g.assertNotLogged(leaked, kept)

	// Its own per-IP limit: a burst of reports is cut off with 429.
	limited := false
	for i := 0; i < 60 && !limited; i++ {
		resp, _ := report(`{"credentials":["hello"]}`)
		limited = resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") != ""
	}
	if !limited {
		t.Error("60 reports in a row were never limited")
	}
}
