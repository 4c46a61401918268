package caddymodule

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/gate"
	"github.com/gatehouse/gatehouse/problem"
)

// Open agent registration (the KnowledgePulse registry model): an agent
// asks for a key with POST /v1/auth/register and gets one at once, within
// the tiers and scopes the operator opened (the `registration` block), and
// later revokes it with POST /v1/auth/revoke. Both are served only where
// registration is configured; elsewhere they answer 404.
//
// Neither draws on a tier budget. Registration must stay possible when the
// anonymous budget is spent, so it has its own per-IP limit
// (registration.limit), charged for every attempt, which keeps it from
// flooding the store. Revocation must stay possible when a leaked key has
// spent its owner's budget, so it is not limited; it needs the key itself,
// and a key that does not verify is a 401, which draws on the anonymous
// budget like every failed authentication.
func init() {
	registerEndpoint(&endpoint{
		name: "register", path: api.PathRegister, methods: []string{http.MethodPost},
		access: accessNone, ownLimit: true, serve: (*Handler).serveRegister,
	})
	registerEndpoint(&endpoint{
		name: "register_revoke", path: api.PathRegisterRevoke, methods: []string{http.MethodPost},
		access: accessNone, ownLimit: true, serve: (*Handler).serveRegisterRevoke,
	})
}

// registeredKeyName names the PAT a registration mints.
const registeredKeyName = "agent registration"

// serveRegister answers POST /v1/auth/register: it creates an agent user
// named agent_id and a PAT with the asked scopes, in one transaction.
func (h *Handler) serveRegister(w http.ResponseWriter, r *http.Request, id *Identity) error {
	reg, limit := h.app.policy.Registration, h.app.limits.registration
	if reg == nil || limit == nil {
		return h.refuse(w, r, registrationDisabled(), id, -1)
	}
	if d := limit.Charge(w, gate.ClientKey(clientIP(r))); d != nil {
		return h.refuse(w, r, d, id, -1)
	}
	var req api.RegisterRequest
	if d := decodeJSON(r, &req); d != nil {
		return h.refuse(w, r, d, id, -1)
	}
	login, d := registrationLogin(req.AgentID)
	if d != nil {
		return h.refuse(w, r, d, id, -1)
	}
	tier := req.Tier
	if tier == "" {
		tier = reg.Tiers[0]
	}
	if !slices.Contains(reg.Tiers, tier) {
		return h.refuse(w, r, problem.New(http.StatusBadRequest, "invalid_tier", "tier_not_open",
			fmt.Sprintf("tier %q is not open to registration (allowed: %s)", tier, strings.Join(reg.Tiers, " "))), id, -1)
	}
	scopes, d := registrationScopes(req.Scopes, reg.Scopes)
	if d != nil {
		return h.refuse(w, r, d, id, -1)
	}

	// The agent holds exactly the scopes it asked for, so its key, and any
	// key it is later given, can never exceed them. The key goes through
	// the validation every PAT does; the account does not exist yet, so
	// the draft stands in for it, and the store creates both at once.
	draft := &authstore.User{Login: login, Kind: authstore.KindAgent, Tier: tier, Scopes: scopes}
	days := reg.ExpiresDays
	if days == 0 {
		days = h.app.policy.PATMaxDays
	}
	n, err := h.app.checkPATRequest(draft, patRequest{
		Name: registeredKeyName, Scopes: scopes, ExpiresDays: days, Via: authstore.ViaRegister,
	})
	if err != nil {
		return h.refuse(w, r, h.registrationFailure(login, err), id, -1)
	}
	actor := authstore.Actor{Kind: authstore.ActorRegistration, IP: clientIP(r)}
	tok, agent, p, err := h.app.store.RegisterAgent(authstore.NewUser{Login: login, Tier: tier, Scopes: scopes}, n, actor)
	if err != nil {
		return h.refuse(w, r, h.registrationFailure(login, err), id, -1)
	}
	h.logger.Info("agent registered", zap.String("user", agent.Login), zap.String("user_id", agent.ID),
		zap.String("tier", tier), zap.String("token_id", p.ID), zap.String("hint", p.Hint),
		zap.Strings("scopes", p.Scopes), zap.String("client_ip", actor.IP))
	problem.WriteJSON(w, http.StatusCreated, api.RegisterResponse{
		Data: api.RegisteredKey{
			APIKey: tok, KeyPrefix: authstore.KeyPrefix(h.app.policy.TokenPrefix, tok),
			Scopes: p.Scopes, Tier: tier, CreatedAt: p.CreatedAt,
		},
		Message: fmt.Sprintf("agent %s registered. Store api_key now: it is shown only once. Send it as Authorization: Bearer <api_key>; revoke it with POST %s.",
			agent.Login, h.Endpoints.Path("register_revoke")),
	})
	return nil
}

// registrationLogin checks an agent_id and returns it normalised, or the
// 400 that says what is wrong with it. An agent_id that is not valid UTF-8
// (JSON decoding makes U+FFFD of invalid bytes) or holds a control or
// formatting character (a newline, U+202E) is refused rather than cleaned
// up, as is one of the reserved names (authstore.ReservedLogin): open
// registration must not hand out logins that pass for the server or its
// administrators.
func registrationLogin(agentID string) (string, *problem.Problem) {
	login, err := authstore.NormalizeLogin(agentID)
	if err != nil {
		why := "is not a valid login"
		var le *authstore.LoginError
		if errors.As(err, &le) {
			why = le.Problem
		}
		return "", problem.New(http.StatusBadRequest, "invalid_request", "bad_agent_id",
			"agent_id "+why+": give 1 to 64 characters of a-z, 0-9, '.', '_', '-' or '@'")
	}
	if authstore.ReservedLogin(login) {
		return "", reservedAgentID(login)
	}
	return login, nil
}

func reservedAgentID(login string) *problem.Problem {
	return problem.New(http.StatusBadRequest, "invalid_request", "reserved_agent_id",
		fmt.Sprintf("agent_id %s is a reserved name (kept for people and the server itself); choose another", login))
}

// registrationScopes checks the asked scopes against those open to
// registration and returns them without duplicates, or a 400 naming every
// scope that is not open.
func registrationScopes(asked, open []string) ([]string, *problem.Problem) {
	if len(asked) == 0 {
		return nil, problem.New(http.StatusBadRequest, "invalid_scope", "no_scope",
			fmt.Sprintf("name at least one scope (allowed: %s)", strings.Join(open, " ")))
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
		return nil, problem.New(http.StatusBadRequest, "invalid_scope", "scope_not_open",
			fmt.Sprintf("scopes not open to registration: %s (allowed: %s)", strings.Join(closed, " "), strings.Join(open, " ")))
	}
	return scopes, nil
}

// registrationFailure turns a failed registration into its answer: 400 for
// a reserved agent_id, 409 for a taken one (by an agent or a person), the
// validation's own status for a refused key, 500 otherwise.
func (h *Handler) registrationFailure(login string, err error) *problem.Problem {
	var ae requestError
	switch {
	case errors.Is(err, authstore.ErrReservedLogin):
		return reservedAgentID(login)
	case errors.Is(err, authstore.ErrExists):
		return problem.New(http.StatusConflict, "agent_id_taken", "agent_id_taken",
			fmt.Sprintf("agent_id %s is already registered; choose another", login))
	case errors.As(err, &ae) && ae.status < 500:
		return problem.New(ae.status, "invalid_request", "registration_refused", ae.Error())
	}
	h.logger.Error("registering agent", zap.String("user", login), zap.Error(err))
	return problem.Internal()
}

// serveRegisterRevoke answers POST /v1/auth/revoke: the key sent as Bearer
// revokes itself, once key_prefix in the body confirms which key it is.
func (h *Handler) serveRegisterRevoke(w http.ResponseWriter, r *http.Request, id *Identity) error {
	if h.app.policy.Registration == nil {
		return h.refuse(w, r, registrationDisabled(), id, -1)
	}
	if id.PAT == nil {
		// The endpoint is served to anyone, so that it can answer 404
		// where registration is off; a missing or failed credential gets
		// its precise 401 here.
		if id.User != nil {
			return h.refuse(w, r, problem.New(http.StatusBadRequest, "invalid_request", "key_required",
				"send the key to revoke as Authorization: Bearer <api_key>"), id, -1)
		}
		_, d := h.app.gate.Authenticate(r)
		if d == nil {
			d = problem.Unauthenticated()
		}
		return h.refuse(w, r, d, nil, -1)
	}
	var req api.RegisterRevokeRequest
	if d := decodeJSON(r, &req); d != nil {
		return h.refuse(w, r, d, id, -1)
	}
	tok, _ := gate.BearerToken(r) // verified above, so well-formed
	want := authstore.KeyPrefix(h.app.policy.TokenPrefix, tok)
	switch req.KeyPrefix {
	case "":
		return h.refuse(w, r, problem.New(http.StatusBadRequest, "invalid_request", "key_prefix_missing",
			"give the key's key_prefix, as registration returned it"), id, -1)
	case want:
	default:
		return h.refuse(w, r, problem.New(http.StatusBadRequest, "invalid_request", "key_prefix_mismatch",
			"key_prefix does not match the key sent as Bearer"), id, -1)
	}
	actor := authstore.Actor{Kind: authstore.ActorToken, UserID: id.User.ID, IP: clientIP(r)}
	p, err := h.app.store.RevokePAT(id.PAT.ID, actor)
	if err != nil {
		h.logger.Error("revoking registered key", zap.String("token_id", id.PAT.ID), zap.Error(err))
		return h.refuse(w, r, problem.Internal(), id, -1)
	}
	h.logger.Info("token revoked", zap.String("token_id", p.ID), zap.String("user", id.User.Login), zap.String("by", "token"))
	problem.WriteJSON(w, http.StatusOK, api.RegisterRevokeResponse{
		Data:    api.RevokedKey{KeyPrefix: want, Revoked: true, RevokedAt: p.RevokedAt},
		Message: "key revoked; it stops working immediately",
	})
	return nil
}

func registrationDisabled() *problem.Problem {
	return problem.New(http.StatusNotFound, "not_found", "registration_disabled", "agent registration is not enabled here")
}
