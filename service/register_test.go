package service

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/problem"
)

func registrationService(t *testing.T) *Service {
	t.Helper()
	g := testGlobal()
	g.Registration = &config.Registration{Tiers: []string{"free"}, Scopes: []string{"wiki:read", "papers:read"}, Limit: "5/1h", ExpiresDays: 7}
	return newTestService(t, g)
}

// TestRegister pins each refusal's answer on the API surface: status,
// code, reason and what the message names.
func TestRegister(t *testing.T) {
	t.Parallel()
	s := registrationService(t)
	mustUser(t, s, "taken", nil, nil)
	for _, tc := range []struct {
		name   string
		req    api.RegisterRequest
		status int
		code   string
		reason string
		msg    string
	}{
		{"bad agent_id", api.RegisterRequest{AgentID: "has space", Scopes: []string{"wiki:read"}}, 400, "invalid_request", "bad_agent_id", "agent_id"},
		{"reserved agent_id", api.RegisterRequest{AgentID: "admin", Scopes: []string{"wiki:read"}}, 400, "invalid_request", "reserved_agent_id", "reserved name"},
		{"tier not open", api.RegisterRequest{AgentID: "a1", Tier: "pro", Scopes: []string{"wiki:read"}}, 400, "invalid_tier", "tier_not_open", `tier "pro" is not open`},
		{"no scope", api.RegisterRequest{AgentID: "a2"}, 400, "invalid_scope", "no_scope", "allowed: wiki:read papers:read"},
		{"scopes not open", api.RegisterRequest{AgentID: "a3", Scopes: []string{"papers:write", "wiki:read", "papers:write", "x:y"}}, 400, "invalid_scope", "scope_not_open", "not open to registration: papers:write x:y"},
		{"taken by a person", api.RegisterRequest{AgentID: "taken", Scopes: []string{"wiki:read"}}, 409, "agent_id_taken", "agent_id_taken", "agent_id taken is already registered"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := s.Register(tc.req, "203.0.113.7")
			p := problem.From(err, problem.API)
			if p == nil || p.Status != tc.status || p.Code != tc.code || p.Reason != tc.reason || !strings.Contains(p.Message, tc.msg) {
				t.Errorf("answer %+v", p)
			}
		})
	}
}

func TestRegisterCreates(t *testing.T) {
	t.Parallel()
	s := registrationService(t)
	out, err := s.Register(api.RegisterRequest{AgentID: "Bot-1", Scopes: []string{"wiki:read", "wiki:read"}}, "203.0.113.7")
	if err != nil {
		t.Fatal(err)
	}
	if out.Agent.Login != "bot-1" || out.Agent.Kind != authstore.KindAgent || out.Tier != "free" ||
		!slices.Equal(out.PAT.Scopes, []string{"wiki:read"}) || out.PAT.Name != RegisteredKeyName || out.PAT.CreatedVia != authstore.ViaRegister ||
		!out.PAT.ExpiresAt.Equal(testNow.Add(7*24*time.Hour)) {
		t.Errorf("registered %+v %+v", out.Agent, out.PAT)
	}
	if p, err := s.LookupPlaintext(out.Key); err != nil || p.ID != out.PAT.ID {
		t.Errorf("the key does not find its token: %v", err)
	}
	// The same agent_id again is taken, by the agent this time.
	_, err = s.Register(api.RegisterRequest{AgentID: "bot-1", Scopes: []string{"wiki:read"}}, "203.0.113.7")
	if p := problem.From(err, problem.API); p.Status != 409 || p.Code != "agent_id_taken" {
		t.Errorf("again: %+v", p)
	}
}

func TestRegisterDisabledOrRefusedKey(t *testing.T) {
	t.Parallel()
	s := newTestService(t, testGlobal())
	if _, err := s.Register(api.RegisterRequest{AgentID: "a"}, ""); !errors.Is(err, ErrRegistrationDisabled) {
		t.Errorf("no registration block: %v", err)
	}
	if p := problem.From(ErrRegistrationDisabled, problem.API); p.Status != 404 || p.Code != "not_found" || p.Reason != "registration_disabled" {
		t.Errorf("disabled: %+v", p)
	}
	// A key the validation refuses (here: a lifetime above pat_max_days)
	// is a registration_refused with the validation's message.
	g := testGlobal()
	g.Registration = &config.Registration{Tiers: []string{"free"}, Scopes: []string{"wiki:read"}, Limit: "5/1h"}
	s = newTestService(t, g)
	s.Policy.Registration.ExpiresDays = 99
	_, err := s.Register(api.RegisterRequest{AgentID: "a", Scopes: []string{"wiki:read"}}, "")
	if p := problem.From(err, problem.API); p.Status != 400 || p.Code != "invalid_request" || p.Reason != "registration_refused" || !strings.Contains(p.Message, "must be 1 to 30") {
		t.Errorf("refused key: %+v", p)
	}
}
