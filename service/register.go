package service

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/problem"
)

// Open agent registration (the KnowledgePulse registry model): an agent
// gets an account and a key at once, within the tiers and scopes the
// operator opened (the `registration` block).

// RegisteredKeyName names the PAT a registration mints.
const RegisteredKeyName = "agent registration"

// ErrRegistrationDisabled refuses a registration where none is
// configured.
var ErrRegistrationDisabled = &problem.Error{Kind: problem.KindNotFound, Code: "not_found", Reason: "registration_disabled",
	Err: errors.New("agent registration is not enabled here")}

// Registered is what a registration made. Key is the plaintext, here and
// nowhere else.
type Registered struct {
	Key   string
	Agent *authstore.User
	PAT   *authstore.PAT
	Tier  string
}

// Register creates an agent user named req.AgentID and a PAT with the
// asked scopes, in one transaction. The agent holds exactly the scopes it
// asked for, so its key, and any key it is later given, can never exceed
// them. The key goes through the validation every PAT does; the account
// does not exist yet, so a draft stands in for it.
func (s *Service) Register(req api.RegisterRequest, ip string) (Registered, error) {
	reg := s.Policy.Registration
	if reg == nil {
		return Registered{}, ErrRegistrationDisabled
	}
	login, err := registrationLogin(req.AgentID)
	if err != nil {
		return Registered{}, err
	}
	tier := req.Tier
	if tier == "" {
		tier = reg.Tiers[0]
	}
	if !slices.Contains(reg.Tiers, tier) {
		return Registered{}, &problem.Error{Kind: problem.KindInvalid, Code: "invalid_tier", Reason: "tier_not_open",
			Err: fmt.Errorf("tier %q is not open to registration (allowed: %s)", tier, strings.Join(reg.Tiers, " "))}
	}
	scopes, err := registrationScopes(req.Scopes, reg.Scopes)
	if err != nil {
		return Registered{}, err
	}
	draft := &authstore.User{Login: login, Kind: authstore.KindAgent, Tier: tier, Scopes: scopes}
	days := reg.ExpiresDays
	if days == 0 {
		days = s.Policy.PATMaxDays
	}
	n, err := s.CheckPATRequest(draft, PATRequest{
		Name: RegisteredKeyName, Scopes: scopes, ExpiresDays: days, Via: authstore.ViaRegister,
	})
	if err != nil {
		return Registered{}, s.registrationFailure(login, err)
	}
	actor := authstore.Actor{Kind: authstore.ActorRegistration, IP: ip}
	tok, agent, p, err := s.Store.RegisterAgent(authstore.NewUser{Login: login, Tier: tier, Scopes: scopes}, n, actor)
	if err != nil {
		return Registered{}, s.registrationFailure(login, err)
	}
	s.log().Info("agent registered", zap.String("user", agent.Login), zap.String("user_id", agent.ID),
		zap.String("tier", tier), zap.String("token_id", p.ID), zap.String("hint", p.Hint),
		zap.Strings("scopes", p.Scopes), zap.String("client_ip", ip))
	return Registered{Key: tok, Agent: agent, PAT: p, Tier: tier}, nil
}

// registrationLogin checks an agent_id and returns it normalised. An
// agent_id that is not valid UTF-8 (JSON decoding makes U+FFFD of invalid
// bytes) or holds a control or formatting character (a newline, U+202E)
// is refused rather than cleaned up, as is one of the reserved names
// (authstore.ReservedLogin): open registration must not hand out logins
// that pass for the server or its administrators.
func registrationLogin(agentID string) (string, error) {
	login, err := authstore.NormalizeLogin(agentID)
	if err != nil {
		why := "is not a valid login"
		var le *authstore.LoginError
		if errors.As(err, &le) {
			why = le.Problem
		}
		return "", &problem.Error{Kind: problem.KindInvalid, Reason: "bad_agent_id",
			Err: errors.New("agent_id " + why + ": give 1 to 64 characters of a-z, 0-9, '.', '_', '-' or '@'")}
	}
	if authstore.ReservedLogin(login) {
		return "", reservedAgentID(login)
	}
	return login, nil
}

func reservedAgentID(login string) error {
	return &problem.Error{Kind: problem.KindInvalid, Reason: "reserved_agent_id",
		Err: fmt.Errorf("agent_id %s is a reserved name (kept for people and the server itself); choose another", login)}
}

// registrationScopes checks the asked scopes against those open to
// registration and returns them without duplicates, or a refusal naming
// every scope that is not open.
func registrationScopes(asked, open []string) ([]string, error) {
	if len(asked) == 0 {
		return nil, &problem.Error{Kind: problem.KindInvalid, Code: "invalid_scope", Reason: "no_scope",
			Err: fmt.Errorf("name at least one scope (allowed: %s)", strings.Join(open, " "))}
	}
	var scopes, closed []string
	for _, s := range asked {
		switch {
		case !slices.Contains(open, s):
			if !slices.Contains(closed, s) {
				closed = append(closed, s)
			}
		case !slices.Contains(scopes, s):
			scopes = append(scopes, s)
		}
	}
	if len(closed) > 0 {
		return nil, &problem.Error{Kind: problem.KindInvalid, Code: "invalid_scope", Reason: "scope_not_open",
			Err: fmt.Errorf("scopes not open to registration: %s (allowed: %s)", strings.Join(closed, " "), strings.Join(open, " "))}
	}
	return scopes, nil
}

// registrationFailure turns a failed registration into its refusal: a
// reserved agent_id, a taken one (by an agent or a person), or the key's
// refusal; anything else is logged and returned as it is (a 500).
func (s *Service) registrationFailure(login string, err error) error {
	var refused *problem.Error
	switch {
	case errors.Is(err, authstore.ErrReservedLogin):
		return reservedAgentID(login)
	case errors.Is(err, authstore.ErrExists):
		return &problem.Error{Kind: problem.KindConflict, Code: "agent_id_taken", Reason: "agent_id_taken",
			Err: fmt.Errorf("agent_id %s is already registered; choose another", login)}
	case errors.As(err, &refused):
		return &problem.Error{Kind: refused.Kind, Reason: "registration_refused", Err: refused}
	}
	s.log().Error("registering agent", zap.String("user", login), zap.Error(err))
	return fmt.Errorf("registering agent %s: %w", login, err)
}
