package requestcheck

import "net/http"

// Problem is why a request was refused: the HTTP status (400 unless
// said otherwise), a machine-readable reason for logs and metrics, and a
// message that tells the client what to send instead.
type Problem struct {
	Status  int
	Reason  string
	Message string
}

func (p *Problem) Error() string { return p.Reason + ": " + p.Message }

func refuse(reason, message string) *Problem {
	return &Problem{Status: http.StatusBadRequest, Reason: reason, Message: message}
}
