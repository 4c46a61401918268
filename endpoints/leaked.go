package endpoints

import (
	"errors"
	"net/http"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/decision"
	"github.com/gatehouse/gatehouse/internal/reqbody"
	"github.com/gatehouse/gatehouse/problem"
	"github.com/gatehouse/gatehouse/ratelimit"
	"github.com/gatehouse/gatehouse/service"
)

// serveCredentialsRevoke answers POST /api/credentials/revoke, a secret
// scanner's report of leaked credentials (service.RevokeLeaked): no
// authentication, its own per-IP limit instead of the anonymous budget
// (a scanner must get through while probing clients are held back), and
// 202 whether or not any string was a credential.
func (s *Site) serveCredentialsRevoke(w http.ResponseWriter, r *http.Request, id *decision.Identity) error {
	ip := s.facts.ClientIP(r)
	if s.scanner != nil {
		if d := s.scanner.Charge(w, ratelimit.ClientKey(ip)); d != nil {
			return s.refuse(w, r, d, id)
		}
	}
	var req api.RevokeCredentialsRequest
	if d := reqbody.DecodeJSONLimit(r, &req, service.MaxLeakedReportBody); d != nil {
		return s.refuse(w, r, d, id)
	}
	n, err := s.svc().RevokeLeaked(req.Credentials, ip)
	if _, refused := errors.AsType[*problem.Error](err); refused {
		return s.refuse(w, r, problem.From(err, problem.API), id)
	}
	if err != nil {
		// Some were revoked, a store failure stopped others: the scanner
		// should send the report again.
		return err
	}
	s.logger.Info("leaked credentials reported", zap.String("client_ip", ip), zap.Int("strings", len(req.Credentials)), zap.Int("revoked", n))
	problem.WriteJSON(w, http.StatusAccepted, api.RevokeCredentialsResponse{
		Message: "received: every valid credential among them is revoked",
	})
	return nil
}
