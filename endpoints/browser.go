package endpoints

import (
	"net/http"

	"github.com/gatehouse/gatehouse/authstore"
)

// Browser sessions are verified and renewed by package gate and recorded
// by package service; this file sets their cookie.

// startBrowserSession records a browser login (service.StartBrowserSession)
// and sets its cookie.
func (s *Site) startBrowserSession(w http.ResponseWriter, r *http.Request, u *authstore.User) (*authstore.Session, error) {
	bs, err := s.svc().StartBrowserSession(u, s.facts.ClientIP(r), r.UserAgent(), s.gate.CookieLife())
	if err != nil {
		return nil, err
	}
	s.gate.SetSessionCookie(w, r, bs.JWT, bs.Expires, bs.Issued)
	return bs.Session, nil
}
