package caddymodule

import (
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/problem"
)

func init() {
	registerEndpoint(&endpoint{
		name: "pat_api", path: api.PathPATAPI, methods: []string{http.MethodGet, http.MethodHead, http.MethodPost},
		access: accessBrowser, serve: (*Handler).servePATAPI,
	})
	registerEndpoint(&endpoint{
		name: "pat_api_token", path: api.PathPATAPIToken, prefix: true, methods: []string{http.MethodDelete},
		access: accessBrowser, serve: (*Handler).servePATAPIToken,
	})
}

// servePATAPI answers GET /api/pat (the caller's tokens) and POST
// /api/pat (create one; the plaintext is in this answer only). Only a
// browser session gets here (accessBrowser).
func (h *Handler) servePATAPI(w http.ResponseWriter, r *http.Request, id *Identity) error {
	if r.Method != http.MethodPost {
		tokens, err := h.app.userTokens(id.User)
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
	if err := h.app.selfServiceCaps(id.User, req.Resources); err != nil {
		return h.refuse(w, r, &problem.Problem{Status: http.StatusBadRequest, Code: "invalid_request", Message: err.Error(), Reason: "pat_invalid"}, id, -1)
	}
	tok, p, err := h.app.mintPAT(id.User, patRequest{
		Name: req.Name, Scopes: req.Scopes, ExpiresDays: req.ExpiresDays, Resources: req.Resources, Via: authstore.ViaWeb,
	}, authstore.Actor{Kind: "user", UserID: id.User.ID, IP: clientIP(r)})
	if err != nil {
		return h.refuse(w, r, mintDenial(err), id, -1)
	}
	problem.WriteJSON(w, http.StatusCreated, api.CreateTokenResponse{Token: tok, Info: viewToken(p, id.User.Login, time.Now())})
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
	p, d := h.revokeOwnPAT(r, id, tokID)
	if d != nil {
		return h.refuse(w, r, d, id, -1)
	}
	problem.WriteJSON(w, http.StatusOK, viewToken(p, id.User.Login, time.Now()))
	return nil
}

// selfServiceCaps checks the resource caps a user asks for on their own
// token: declared types and roles, and never above a role they hold now.
// nil (every resource at the user's role) needs no check.
func (a *App) selfServiceCaps(u *authstore.User, caps map[string]string) error {
	if caps == nil {
		return nil
	}
	if err := a.checkResourceCaps(caps); err != nil {
		return err
	}
	return a.checkCapsHeld(u, caps)
}
