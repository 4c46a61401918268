package caddymodule

import (
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/endpoints"
	"github.com/gatehouse/gatehouse/forwardauth"
	"github.com/gatehouse/gatehouse/gate"
)

// caddyFacts answers gate's questions about a request from what Caddy
// computed (clientip.go, scheme.go), which honours trusted_proxies.
type caddyFacts struct{}

func (caddyFacts) ClientIP(r *http.Request) string { return clientIP(r) }
func (caddyFacts) IsHTTPS(r *http.Request) bool    { return isHTTPS(r) }
func (caddyFacts) FromTrustedProxy(r *http.Request) bool {
	return fromTrustedProxy(r)
}
func (caddyFacts) ExternalBase(r *http.Request) string {
	return externalBase(r)
}

// storeRef is the App's store as gate reads it. The store is opened after
// Provision, in Start or by the first request (storepool.go), and every
// request path calls openStore before it reaches the gate.
type storeRef struct{ a *App }

func (s storeRef) VerifyPAT(tok, ip string) (*authstore.PAT, *authstore.User, error) {
	return s.a.store.VerifyPAT(tok, ip)
}

func (s storeRef) VerifySessionJWT(tok, ip string) (*authstore.SessionToken, *authstore.Session, *authstore.User, error) {
	return s.a.store.VerifySessionJWT(tok, ip)
}

func (s storeRef) IssueSessionJWT(sess *authstore.Session, iat, exp time.Time) (string, error) {
	return s.a.store.IssueSessionJWT(sess, iat, exp)
}

// Interface guards
var (
	_ endpoints.Facts        = caddyFacts{}
	_ forwardauth.TrustFacts = caddyFacts{}
	_ gate.Store             = storeRef{}
)
