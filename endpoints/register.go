package endpoints

import (
	"fmt"
	"net/http"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/decision"
	"github.com/gatehouse/gatehouse/gate"
	"github.com/gatehouse/gatehouse/internal/reqbody"
	"github.com/gatehouse/gatehouse/problem"
	"github.com/gatehouse/gatehouse/ratelimit"
	"github.com/gatehouse/gatehouse/service"
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

// serveRegister answers POST /v1/auth/register (service.Register): it
// creates an agent user named agent_id and a PAT with the asked scopes, in
// one transaction.
func (s *Site) serveRegister(w http.ResponseWriter, r *http.Request, id *decision.Identity) error {
	reg, limit := s.policy.Registration, s.registration
	if reg == nil || limit == nil {
		return s.refuse(w, r, registrationDisabled(), id)
	}
	if d := limit.Charge(w, ratelimit.ClientKey(s.facts.ClientIP(r))); d != nil {
		return s.refuse(w, r, d, id)
	}
	var req api.RegisterRequest
	if d := reqbody.DecodeJSON(r, &req); d != nil {
		return s.refuse(w, r, d, id)
	}
	out, err := s.svc().Register(req, s.facts.ClientIP(r))
	if err != nil {
		return s.refuse(w, r, problem.From(err, problem.API), id)
	}
	problem.WriteJSON(w, http.StatusCreated, api.RegisterResponse{
		Data: api.RegisteredKey{
			APIKey: out.Key, KeyPrefix: authstore.KeyPrefix(s.policy.TokenPrefix, out.Key),
			Scopes: out.PAT.Scopes, Tier: out.Tier, CreatedAt: out.PAT.CreatedAt,
		},
		Message: fmt.Sprintf("agent %s registered. Store api_key now: it is shown only once. Send it as Authorization: Bearer <api_key>; revoke it with POST %s.",
			out.Agent.Login, s.Path("register_revoke")),
	})
	return nil
}

// serveRegisterRevoke answers POST /v1/auth/revoke: the key sent as Bearer
// revokes itself, once key_prefix in the body confirms which key it is.
func (s *Site) serveRegisterRevoke(w http.ResponseWriter, r *http.Request, id *decision.Identity) error {
	if s.policy.Registration == nil {
		return s.refuse(w, r, registrationDisabled(), id)
	}
	if id.PAT == nil {
		// The endpoint is served to anyone, so that it can answer 404
		// where registration is off; a missing or failed credential gets
		// its precise 401 here.
		if id.User != nil {
			return s.refuse(w, r, problem.New(http.StatusBadRequest, "invalid_request", "key_required",
				"send the key to revoke as Authorization: Bearer <api_key>"), id)
		}
		_, d := s.gate.Authenticate(r)
		if d == nil {
			d = problem.Unauthenticated()
		}
		return s.refuse(w, r, d, nil)
	}
	var req api.RegisterRevokeRequest
	if d := reqbody.DecodeJSON(r, &req); d != nil {
		return s.refuse(w, r, d, id)
	}
	tok, _ := gate.BearerToken(r) // verified above, so well-formed
	want := authstore.KeyPrefix(s.policy.TokenPrefix, tok)
	switch req.KeyPrefix {
	case "":
		return s.refuse(w, r, problem.New(http.StatusBadRequest, "invalid_request", "key_prefix_missing",
			"give the key's key_prefix, as registration returned it"), id)
	case want:
	default:
		return s.refuse(w, r, problem.New(http.StatusBadRequest, "invalid_request", "key_prefix_mismatch",
			"key_prefix does not match the key sent as Bearer"), id)
	}
	// The key revokes itself (service.RevokeByCaller, acting as the token).
	p, err := s.svc().RevokeByCaller(s.caller(r, id), "", "")
	if err != nil {
		return s.refuse(w, r, problem.From(err, problem.API), id)
	}
	problem.WriteJSON(w, http.StatusOK, api.RegisterRevokeResponse{
		Data:    api.RevokedKey{KeyPrefix: want, Revoked: true, RevokedAt: p.RevokedAt},
		Message: "key revoked; it stops working immediately",
	})
	return nil
}

func registrationDisabled() *problem.Problem {
	return problem.From(service.ErrRegistrationDisabled, problem.API)
}
