package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/internal/etcdtest"
)

// fleetEdge is one `caddy run` of the built binary in fleet mode.
type fleetEdge struct {
	*binServer
	http string // base URL of its site
	conf string // its Caddyfile
}

// startEdge runs an edge named id over the etcd endpoints, on ports the
// system picked, with its mirror in a directory of its own.
func startEdge(t *testing.T, id string, endpoints []string, upstream string) *fleetEdge {
	t.Helper()
	return startEdgeWith(t, id, endpoints, upstream, "10s")
}

func startEdgeWith(t *testing.T, id string, endpoints []string, upstream, maxStaleness string) *fleetEdge {
	t.Helper()
	admin, site := freePort(t), freePort(t)
	dir := t.TempDir()
	conf := fmt.Sprintf(`{
	admin localhost:%d
	gatehouse {
		store etcd {
			endpoints %s
			mirror %s
			edge_id %s
			max_staleness %s
		}
		scopes docs:read
	}
}
:%d {
	gatehouse {
		default authenticated
	}
	reverse_proxy %s
}
`, admin, strings.Join(endpoints, " "), filepath.Join(dir, "mirror.db"), id, maxStaleness, site, upstream)
	s := runBinary(t, conf, admin)
	return &fleetEdge{binServer: s, http: fmt.Sprintf("http://127.0.0.1:%d", site), conf: conf}
}

func (e *fleetEdge) run(args ...string) string {
	e.t.Helper()
	stdout, stderr, err := e.gatehouse(args...)
	if err != nil {
		e.t.Fatalf("caddy gatehouse %v: %v\n%s\nserver log:\n%s", args, err, stderr, e.output)
	}
	return stdout
}

func (e *fleetEdge) status(tok string) int {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.http+"/docs/1", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// within polls until the edge answers want for tok, up to the fleet's
// propagation bound (1 s), and returns how long that took.
func (e *fleetEdge) within(t *testing.T, tok string, want int) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		got := e.status(tok)
		if got == want {
			return time.Since(start)
		}
		if time.Since(start) > time.Second {
			t.Fatalf("edge answered %d, want %d, after 1s", got, want)
		}
		time.Sleep(time.Millisecond) // polling the outcome, not synchronising
	}
}

// TestFleetTwoEdges runs two real Caddy edges on one embedded three-member
// etcd cluster and drives them with `caddy gatehouse` and HTTP: a user and
// a PAT made through edge a work on edge b, a revoke through b is refused
// on a, and `store status` on either shows both edges in the registry.
func TestFleetTwoEdges(t *testing.T) {
	cluster := etcdtest.Start(t, 3)
	up := newUpstream(t)
	upstream := strings.TrimPrefix(up.URL, "http://")

	// A single-edge store, made offline, migrated into etcd first.
	dir := t.TempDir()
	file := filepath.Join(dir, "old.db")
	conf := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("{\n\tadmin localhost:%d\n\tgatehouse {\n\t\tstore %s\n\t\tscopes docs:read\n\t}\n}\n", freePort(t), file)), 0o600); err != nil {
		t.Fatal(err)
	}
	offline := func(args ...string) string {
		t.Helper()
		stdout, stderr, err := runCaddy(t, append([]string{"gatehouse", "--config", conf}, args...)...)
		if err != nil {
			t.Fatalf("caddy gatehouse %v: %v\n%s", args, err, stderr)
		}
		return stdout + stderr
	}
	offline("user", "add", "olga")
	oldTok := strings.Fields(offline("token", "create", "--user", "olga", "--scopes", "docs:read", "--expires-days", "5"))[0]
	migrate := []string{"store", "migrate", "--to", "etcd", "--from", file, "--endpoints", strings.Join(cluster.Endpoints(), ",")}
	if out := offline(migrate...); !strings.Contains(out, "0 already present") || !strings.Contains(out, "verified") {
		t.Fatalf("store migrate: %s", out)
	}
	if out := offline(migrate...); !strings.Contains(out, " 0 copied") {
		t.Fatalf("store migrate again: %s", out)
	}

	a := startEdge(t, "edge-a", cluster.Endpoints(), upstream)
	b := startEdge(t, "edge-b", cluster.Endpoints(), upstream)
	if a.status(oldTok) != http.StatusOK || b.status(oldTok) != http.StatusOK {
		t.Fatal("a token of the migrated store is refused")
	}

	a.run("user", "add", "fran")
	tok := strings.TrimSpace(a.run("token", "create", "--user", "fran", "--scopes", "docs:read", "--expires-days", "5", "--name", "ci"))
	if a.status(tok) != http.StatusOK {
		t.Fatal("token refused on the edge that minted it")
	}
	minted := b.within(t, tok, http.StatusOK)

	var list []api.TokenInfo
	if err := json.Unmarshal([]byte(b.run("token", "list", "--user", "fran", "--json")), &list); err != nil || len(list) != 1 {
		t.Fatalf("token list on b: %v %v", err, list)
	}
	b.run("token", "revoke", list[0].ID)
	if got := b.status(tok); got != http.StatusUnauthorized {
		t.Fatalf("revoked on b, b answers %d", got)
	}
	revoked := a.within(t, tok, http.StatusUnauthorized)
	t.Logf("mint on a -> accepted on b within %v; revoke on b -> refused on a within %v", minted, revoked)

	var st api.Status
	if err := json.Unmarshal([]byte(a.run("store", "status", "--json")), &st); err != nil {
		t.Fatal(err)
	}
	if st.Engine != "etcd" || st.Fleet == nil || st.Fleet.EdgeID != "edge-a" || st.Fleet.Applied == 0 {
		t.Fatalf("store status on a: %+v", st)
	}
	var ids []string
	for _, e := range st.Fleet.Edges {
		ids = append(ids, e.ID)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"edge-a", "edge-b"}) {
		t.Fatalf("registry as a sees it: %v", ids)
	}
	resp, err := http.Get("http://" + a.address + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`gatehouse_fleet_applied_revision{edge="edge-a"}`, `gatehouse_fleet_outbox{edge="edge-a"} 0`, `gatehouse_fleet_edges{edge="edge-a"} 2`, `gatehouse_fleet_staleness_seconds{edge="edge-a"}`} {
		if !bytes.Contains(metrics, []byte(want)) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// A reload keeps the pooled store, its mirror and its watch: no
	// second open of the mirror, no resync.
	if out, err := a.reload(strings.Replace(a.conf, "default authenticated", "rule GET /open anonymous\n\t\tdefault authenticated", 1)); err != nil {
		t.Fatalf("reload: %v\n%s", err, out)
	}
	tok2 := strings.TrimSpace(b.run("token", "create", "--user", "fran", "--scopes", "docs:read", "--expires-days", "5"))
	a.within(t, tok2, http.StatusOK)
	var after api.Status
	if err := json.Unmarshal([]byte(a.run("store", "status", "--json")), &after); err != nil {
		t.Fatal(err)
	}
	if after.Fleet.Resyncs != st.Fleet.Resyncs || after.Fleet.Applied <= st.Fleet.Applied {
		t.Fatalf("after reload: %+v, before %+v", after.Fleet, st.Fleet)
	}

	// The audit trail stays per edge: the revoke is b's, tagged with b.
	var events []api.AuditEvent
	if err := json.Unmarshal([]byte(b.run("audit", "--json")), &events); err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Edge != "edge-b" || e.Revision == 0 {
			t.Fatalf("b's audit trail holds an untagged or foreign record: %+v", e)
		}
	}
	if len(events) != 2 || events[1].Action != "token.revoked" {
		t.Fatalf("b's audit trail: %+v", events)
	}
}

// TestFleetEdgeCutOff cuts one real edge off the cluster (a TCP proxy
// between it and every member drops its connections): it keeps accepting
// tokens from its mirror until max_staleness, then answers 503; writes
// through it answer 503 at once; a revoke through it holds there at once
// and reaches the other edge once the cut is mended.
func TestFleetEdgeCutOff(t *testing.T) {
	cluster := etcdtest.Start(t, 3)
	proxy := cluster.Proxy(t)
	up := newUpstream(t)
	upstream := strings.TrimPrefix(up.URL, "http://")
	a := startEdge(t, "edge-a", cluster.Endpoints(), upstream)
	b := startEdgeWith(t, "edge-b", proxy.Endpoints(), upstream, "2s")
	a.run("user", "add", "gus")
	tok := strings.TrimSpace(a.run("token", "create", "--user", "gus", "--scopes", "docs:read", "--expires-days", "5"))
	tok2 := strings.TrimSpace(a.run("token", "create", "--user", "gus", "--scopes", "docs:read", "--expires-days", "5"))
	b.within(t, tok, http.StatusOK)
	b.within(t, tok2, http.StatusOK)
	var list []api.TokenInfo
	if err := json.Unmarshal([]byte(a.run("token", "list", "--user", "gus", "--json")), &list); err != nil || len(list) != 2 {
		t.Fatalf("token list: %v %v", err, list)
	}
	id := list[0].ID
	if list[0].Hint[:8] != tok[:8] {
		id = list[1].ID
	}

	proxy.Cut()
	cut := time.Now()
	if got := b.status(tok); got != http.StatusOK {
		t.Fatalf("cut off within max_staleness: %d", got)
	}
	// Writes fail closed, with a clear message.
	_, stderr, err := b.gatehouse("user", "add", "hal")
	if err == nil || !strings.Contains(stderr, "cannot take changes") {
		t.Fatalf("write on a cut-off edge: %v %s", err, stderr)
	}
	// A revoke holds on this edge at once and is queued.
	b.run("token", "revoke", id)
	var after []api.TokenInfo
	if err := json.Unmarshal([]byte(b.run("token", "list", "--user", "gus", "--json")), &after); err != nil {
		t.Fatal(err)
	}
	for _, ti := range after {
		if ti.ID == id && ti.Status != "revoked" {
			t.Fatalf("revoked on the cut-off edge: %+v", ti)
		}
	}
	if got := b.status(tok); got != http.StatusUnauthorized && got != http.StatusServiceUnavailable {
		t.Fatalf("revoked token on the cut-off edge: %d", got)
	}
	// Past max_staleness: 503, not a stale yes.
	for {
		got := b.status(tok2)
		if got == http.StatusServiceUnavailable {
			break
		}
		if got != http.StatusOK || time.Since(cut) > 10*time.Second {
			t.Fatalf("cut off %v: %d, want 200 then 503", time.Since(cut), got)
		}
		time.Sleep(20 * time.Millisecond) // polling the outcome
	}
	if since := time.Since(cut); since < 2*time.Second {
		t.Fatalf("503 after %v, before max_staleness", since)
	}

	proxy.Restore()
	a.withinLong(t, tok, http.StatusUnauthorized, 15*time.Second) // the outbox drained
	b.withinLong(t, tok2, http.StatusOK, 15*time.Second)          // fresh again
}

// withinLong is within with a longer bound, for reconnection.
func (e *fleetEdge) withinLong(t *testing.T, tok string, want int, bound time.Duration) {
	t.Helper()
	start := time.Now()
	for {
		got := e.status(tok)
		if got == want {
			return
		}
		if time.Since(start) > bound {
			t.Fatalf("edge answered %d, want %d, after %v", got, want, bound)
		}
		time.Sleep(10 * time.Millisecond) // polling the outcome
	}
}

// TestFleetRevokePropagationHTTP measures, through two real Caddy edges,
// how long after edge A's admin API answered a revoke edge B refuses the
// token, over 50 revokes, and prints p50/p99/max (bench/fleet.sh runs it).
// The bound is the guarantee: p99 within 1 s.
func TestFleetRevokePropagationHTTP(t *testing.T) {
	cluster := etcdtest.Start(t, 3)
	up := newUpstream(t)
	upstream := strings.TrimPrefix(up.URL, "http://")
	a := startEdge(t, "edge-a", cluster.Endpoints(), upstream)
	b := startEdge(t, "edge-b", cluster.Endpoints(), upstream)
	a.run("user", "add", "ivy")
	admin := func(e *fleetEdge, method, path string, body, out any) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			raw, _ := json.Marshal(body)
			rd = bytes.NewReader(raw)
		}
		req, _ := http.NewRequest(method, "http://"+e.address+path, rd)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			raw, _ := io.ReadAll(resp.Body)
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
		}
		if out != nil {
			if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
				t.Fatal(err)
			}
		}
	}
	const n = 50
	toks := make([]api.CreateTokenResponse, n)
	for i := range toks {
		admin(a, "POST", "/gatehouse/tokens", api.CreateTokenRequest{User: "ivy", Name: fmt.Sprintf("t%d", i), Scopes: []string{"docs:read"}, ExpiresDays: 1}, &toks[i])
	}
	for _, tk := range toks {
		b.within(t, tk.Token, http.StatusOK) // warm b's cache
	}
	lat := make([]time.Duration, n)
	for i, tk := range toks {
		admin(a, "DELETE", "/gatehouse/tokens/"+tk.Info.ID, nil, nil)
		lat[i] = b.within(t, tk.Token, http.StatusUnauthorized)
	}
	slices.Sort(lat)
	p50, p99, mx := lat[n/2], lat[min(n-1, n*99/100)], lat[n-1]
	t.Logf("revoke on edge A (admin API answered) -> refused on edge B over HTTP, %d revokes: p50 %v  p99 %v  max %v", n, p50, p99, mx)
	if p99 > time.Second {
		t.Fatalf("p99 %v exceeds 1s", p99)
	}
}
