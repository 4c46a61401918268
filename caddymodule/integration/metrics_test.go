package integration

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestMetrics: decisions by outcome and reason, and store latency, reach
// Caddy's Prometheus registry (the admin endpoint's /metrics), including
// after a reload gives the config a fresh registry.
func TestMetrics(t *testing.T) {
	scrape := func() string {
		t.Helper()
		resp, err := http.Get(fmt.Sprintf("http://localhost:%d/metrics", adminPort))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	for round := range 2 { // the second round runs on a reloaded config
		g := newGateway(t, setup{})
		g.addUser("mia")
		tok := g.mint("mia", 1, "papers:read")
		g.get("/api/papers/1", "Authorization: Bearer "+tok)
		g.get("/api/papers/1")
		body := scrape()
		for _, want := range []string{
			`gatehouse_decisions_total{outcome="allow",reason="ok"}`,
			`gatehouse_decisions_total{outcome="deny",reason="no_credential"}`,
			`gatehouse_store_seconds_count{op="verify_pat"}`,
			`gatehouse_store_seconds_count{op="create_pat"}`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("round %d: /metrics lacks %s", round+1, want)
			}
		}
	}
}
