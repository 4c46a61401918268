package gate

import (
	"net/http"

	"github.com/gatehouse/gatehouse/problem"
)

// crossOrigin is Go's cross-site request forgery defence: it refuses a
// non-safe request that a browser marks as cross-origin (Sec-Fetch-Site,
// or an Origin whose host differs from Host). Requests without either
// header are not from a modern browser and pass; GET, HEAD and OPTIONS
// always pass, so none of Gatehouse's pages changes state on them.
var crossOrigin = http.NewCrossOriginProtection()

// checkCrossOrigin refuses a state-changing request that carries a session
// cookie when a browser sent it from another origin: such a request may
// be a forged form post or fetch riding on the user's cookie. It guards
// both Gatehouse's endpoints and the proxied routes, so the upstream gets
// the same protection. Requests authenticated only by a Bearer header
// cannot be forged this way and are not checked.
func (g *Gate) checkCrossOrigin(r *http.Request) *problem.Problem {
	if !HasSessionCookie(r) {
		return nil
	}
	return CrossOriginDenial(r)
}

// CrossOriginDenial applies the check unconditionally; the login and
// setup forms use it too, since a forged login (into the attacker's
// account) needs no cookie.
func CrossOriginDenial(r *http.Request) *problem.Problem {
	if err := crossOrigin.Check(r); err != nil {
		return problem.Forbidden("cross_origin", "cross-origin request refused")
	}
	return nil
}
