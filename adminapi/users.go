package adminapi

import (
	"net/http"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/problem"
)

// adminSetPassword answers POST /gatehouse/users/{login}/password
// (service.SetPassword).
func (a *server) adminSetPassword(w http.ResponseWriter, r *http.Request) error {
	var req api.SetPasswordRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	out, err := a.svc().SetPassword(r.PathValue("login"), req.PasswordHash, authstore.AdminActor)
	if err != nil {
		return err
	}
	problem.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *server) adminEnableTOTP(w http.ResponseWriter, r *http.Request) error {
	out, err := a.svc().EnableTOTP(r.PathValue("login"), authstore.AdminActor)
	if err != nil {
		return err
	}
	problem.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *server) adminDisableTOTP(w http.ResponseWriter, r *http.Request) error {
	out, err := a.svc().DisableTOTP(r.PathValue("login"), authstore.AdminActor)
	if err != nil {
		return err
	}
	problem.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *server) adminListSessions(w http.ResponseWriter, r *http.Request) error {
	out, err := a.svc().Sessions(r.URL.Query().Get("user"))
	if err != nil {
		return err
	}
	problem.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *server) adminRevokeSession(w http.ResponseWriter, r *http.Request) error {
	out, err := a.svc().RevokeSession(r.PathValue("id"))
	if err != nil {
		return err
	}
	problem.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *server) adminRevokeUserSessions(w http.ResponseWriter, r *http.Request) error {
	out, err := a.svc().RevokeUserSessions(r.PathValue("login"))
	if err != nil {
		return err
	}
	problem.WriteJSON(w, http.StatusOK, out)
	return nil
}
