package endpoints

import (
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/decision"
	"github.com/gatehouse/gatehouse/internal/reqbody"
	"github.com/gatehouse/gatehouse/problem"
	"github.com/gatehouse/gatehouse/service"
)

// servePATAPI answers GET /api/pat (the caller's tokens) and POST
// /api/pat (create one; the plaintext is in this answer only). Only a
// browser session gets here (accessBrowser).
func (s *Site) servePATAPI(w http.ResponseWriter, r *http.Request, id *decision.Identity) error {
	if r.Method != http.MethodPost {
		tokens, err := s.svc().UserTokens(id.User)
		if err != nil {
			s.logger.Error("listing tokens", zap.String("user", id.User.Login), zap.Error(err))
			return s.refuse(w, r, problem.Internal(), id)
		}
		problem.WriteJSON(w, http.StatusOK, tokens)
		return nil
	}
	var req api.CreatePATRequest
	if d := reqbody.DecodeJSON(r, &req); d != nil {
		return s.refuse(w, r, d, id)
	}
	if err := s.svc().SelfServiceCaps(id.User, req.Resources); err != nil {
		return s.refuse(w, r, problem.From(err, problem.API), id)
	}
	tok, p, err := s.svc().MintPAT(id.User, service.PATRequest{
		Name: req.Name, Scopes: req.Scopes, ExpiresDays: req.ExpiresDays, Resources: req.Resources, Via: authstore.ViaWeb,
	}, s.caller(r, id).Actor())
	if err != nil {
		return s.refuse(w, r, problem.From(err, problem.API), id)
	}
	problem.WriteJSON(w, http.StatusCreated, api.CreateTokenResponse{Token: tok, Info: s.svc().TokenInfo(p, id.User.Login)})
	return nil
}

// servePATAPIToken answers DELETE /api/pat/{id}: revoke one of the
// caller's tokens.
func (s *Site) servePATAPIToken(w http.ResponseWriter, r *http.Request, id *decision.Identity) error {
	clean := config.CleanPath(r.URL.Path)
	prefix := s.Path("pat_api_token")
	tokID := ""
	if len(clean) > len(prefix) && strings.EqualFold(clean[:len(prefix)], prefix) {
		tokID = clean[len(prefix):]
	}
	if strings.Contains(tokID, "/") {
		tokID = ""
	}
	p, err := s.svc().RevokeOwnPAT(s.caller(r, id), tokID)
	if err != nil {
		return s.refuse(w, r, problem.From(err, problem.API), id)
	}
	problem.WriteJSON(w, http.StatusOK, s.svc().TokenInfo(p, id.User.Login))
	return nil
}

// caller is who a self-service request acts for, as package service
// takes it.
func (s *Site) caller(r *http.Request, id *decision.Identity) service.Caller {
	return service.Caller{User: id.User, PAT: id.PAT, IP: s.facts.ClientIP(r)}
}
