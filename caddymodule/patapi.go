package caddymodule

import (
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/problem"
	"github.com/gatehouse/gatehouse/service"
)

// servePATAPI answers GET /api/pat (the caller's tokens) and POST
// /api/pat (create one; the plaintext is in this answer only). Only a
// browser session gets here (accessBrowser).
func (h *Handler) servePATAPI(w http.ResponseWriter, r *http.Request, id *Identity) error {
	if r.Method != http.MethodPost {
		tokens, err := h.app.svc.UserTokens(id.User)
		if err != nil {
			h.logger.Error("listing tokens", zap.String("user", id.User.Login), zap.Error(err))
			return h.refuse(w, r, problem.Internal(), id, -1)
		}
		problem.WriteJSON(w, http.StatusOK, tokens)
		return nil
	}
	var req api.CreatePATRequest
	if d := decodeJSON(r, &req); d != nil {
		return h.refuse(w, r, d, id, -1)
	}
	if err := h.app.svc.SelfServiceCaps(id.User, req.Resources); err != nil {
		return h.refuse(w, r, problem.From(err, problem.API), id, -1)
	}
	tok, p, err := h.app.svc.MintPAT(id.User, service.PATRequest{
		Name: req.Name, Scopes: req.Scopes, ExpiresDays: req.ExpiresDays, Resources: req.Resources, Via: authstore.ViaWeb,
	}, caller(r, id).Actor())
	if err != nil {
		return h.refuse(w, r, problem.From(err, problem.API), id, -1)
	}
	problem.WriteJSON(w, http.StatusCreated, api.CreateTokenResponse{Token: tok, Info: h.app.svc.TokenInfo(p, id.User.Login)})
	return nil
}

// servePATAPIToken answers DELETE /api/pat/{id}: revoke one of the
// caller's tokens.
func (h *Handler) servePATAPIToken(w http.ResponseWriter, r *http.Request, id *Identity) error {
	clean := config.CleanPath(r.URL.Path)
	prefix := h.Endpoints.Path("pat_api_token")
	tokID := ""
	if len(clean) > len(prefix) && strings.EqualFold(clean[:len(prefix)], prefix) {
		tokID = clean[len(prefix):]
	}
	if strings.Contains(tokID, "/") {
		tokID = ""
	}
	p, err := h.app.svc.RevokeOwnPAT(caller(r, id), tokID)
	if err != nil {
		return h.refuse(w, r, problem.From(err, problem.API), id, -1)
	}
	problem.WriteJSON(w, http.StatusOK, h.app.svc.TokenInfo(p, id.User.Login))
	return nil
}

// caller is who a self-service request acts for, as package service
// takes it.
func caller(r *http.Request, id *Identity) service.Caller {
	return service.Caller{User: id.User, PAT: id.PAT, IP: clientIP(r)}
}
