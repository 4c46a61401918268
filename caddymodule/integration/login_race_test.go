package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/clock"
)

// accountIPFreeFailures mirrors caddymodule's: how many wrong passwords an
// account may have from one client IP before it is locked there.
const accountIPFreeFailures = 5

// TestLoginConcurrentGuesses fires 40 wrong passwords for one account at
// once, from one address. Checking the lock and counting the failure are one step, so only
// the free attempts are hashed (each hashed attempt is a login.failed in
// the audit trail) and every other one gets 429 without a hash. The
// backoff's clock is stopped, so the lock cannot end while the guesses
// are hashed, however slow the machine.
func TestLoginConcurrentGuesses(t *testing.T) {
	t.Cleanup(clock.Stop(time.Now()))
	g := newSessionGateway(t, "")
	g.addUserWithPassword("alice", "alice password 1")

	const n = 40
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		answers = map[string]int{}
		start   = make(chan struct{})
	)
	for i := range n {
		wg.Go(func() {
			<-start
			body := fmt.Sprintf(`{"login":"alice","password":"wrong password %d"}`, i)
			resp, err := http.Post(g.base+"/api/session", "application/json", strings.NewReader(body))
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			var e struct {
				Error string `json:"error"`
			}
			json.NewDecoder(resp.Body).Decode(&e)
			if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
				e.Error += " without Retry-After"
			}
			mu.Lock()
			answers[fmt.Sprintf("%d %s", resp.StatusCode, e.Error)]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()

	failed, throttled := answers["401 invalid_credentials"], answers["429 too_many_attempts"]
	if failed+throttled != n {
		t.Fatalf("answers %v: want only 401 invalid_credentials and 429 too_many_attempts", answers)
	}
	if failed == 0 || failed > accountIPFreeFailures {
		t.Errorf("%d guesses were checked, want at most %d (answers %v)", failed, accountIPFreeFailures, answers)
	}
	if hashed := countOf(g.auditActions("alice"), "login.failed"); hashed != failed {
		t.Errorf("%d login.failed events, want %d: a throttled guess must not be hashed", hashed, failed)
	}
	// The account is locked from this address now, for the right
	// password too.
	resp, raw := g.do("POST", "/api/session", strings.NewReader(`{"login":"alice","password":"alice password 1"}`), "Content-Type: application/json")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("locked account with the right password: %d %s", resp.StatusCode, raw)
	}
}
