package problem

import (
	"fmt"
	"net/http"
)

// Challenge says which WWW-Authenticate challenge a problem carries.
type Challenge uint8

const (
	// NoChallenge: the problem is not about authentication.
	NoChallenge Challenge = iota
	// Bare: `Bearer realm="…"` alone, for a request that sent no
	// credential (RFC 6750 §3.1: no error code then).
	Bare
	// WithCode: `Bearer realm="…", error="…", error_description="…"`
	// (and scope), for a credential or request that is wrong.
	WithCode
)

// Problem is a refused request or failed operation.
type Problem struct {
	// Status is the HTTP status.
	Status int
	// Code is the JSON "error" value, and the RFC 6750 error code of a
	// WithCode challenge unless ChallengeCode says otherwise.
	Code string
	// Message says what is wrong and how to fix it; it never holds a
	// secret.
	Message string
	// Challenge is the WWW-Authenticate challenge to send.
	Challenge Challenge
	// ChallengeCode, when set, is the challenge's error code where Code is
	// more precise than RFC 6750 (insufficient_role answers with
	// error="insufficient_scope", the nearest code it defines).
	ChallengeCode string
	// Scope is the missing scope of an insufficient_scope problem.
	Scope string
	// Accepted is what the route accepts (Gatehouse-Accepted-Scopes).
	Accepted string
	// Reason is the machine-readable cause, for logs and metrics.
	Reason string
	// Subject names the credential in logs: a token id or hint, never a
	// secret.
	Subject string
	// Headers are extra response headers (Retry-After, RateLimit).
	Headers http.Header
	// OAuth adds error_description to the body: OAuth endpoints answer in
	// RFC 6749 §5.2 form.
	OAuth bool
}

func (p *Problem) Error() string { return fmt.Sprintf("%d %s: %s", p.Status, p.Reason, p.Message) }

// New is a problem without a challenge: status, JSON error code, the
// reason for logs and metrics, and the message.
func New(status int, code, reason, msg string) *Problem {
	return &Problem{Status: status, Code: code, Message: msg, Reason: reason}
}

// Invalid is a 400 about the request itself (its path, method or body),
// which is no matter for an authentication challenge.
func Invalid(reason, msg string) *Problem {
	return &Problem{Status: http.StatusBadRequest, Code: "invalid_request", Message: msg, Reason: reason}
}

// BadAuthorization is a 400 about the Authorization header: RFC 6750's
// invalid_request, with its challenge.
func BadAuthorization(reason, msg string) *Problem {
	return &Problem{Status: http.StatusBadRequest, Code: "invalid_request", Message: msg, Challenge: WithCode, Reason: reason}
}

// Unauthenticated is the 401 for a request that sent no credential where
// one is needed.
func Unauthenticated() *Problem {
	return &Problem{Status: http.StatusUnauthorized, Code: "unauthorized",
		Message: "authentication required: send Authorization: Bearer <token>", Challenge: Bare, Reason: "no_credential"}
}

// InvalidToken is the 401 for a credential that does not verify
// (expired, revoked, unknown, malformed); subject names it for logs.
func InvalidToken(reason, msg, subject string) *Problem {
	return &Problem{Status: http.StatusUnauthorized, Code: "invalid_token", Message: msg, Challenge: WithCode, Reason: reason, Subject: subject}
}

// Forbidden is a 403 without a challenge: the credential is fine, the
// request is not allowed.
func Forbidden(reason, msg string) *Problem {
	return &Problem{Status: http.StatusForbidden, Code: "forbidden", Message: msg, Reason: reason}
}

// InsufficientScope is the 403 for a credential that lacks missing;
// accepted is what the route accepts, so the client can fix its token.
func InsufficientScope(missing, accepted string) *Problem {
	return &Problem{
		Status: http.StatusForbidden, Code: "insufficient_scope",
		Message:   "insufficient scope: this token lacks " + missing,
		Challenge: WithCode, Scope: missing, Accepted: accepted, Reason: "insufficient_scope",
	}
}

// Internal is the 500 for a failure that is the server's, not the
// caller's; what failed goes to the log, never to the client.
func Internal() *Problem {
	return &Problem{Status: http.StatusInternalServerError, Code: "server_error", Message: "internal error", Reason: "internal_error"}
}

// Busy refuses a request the server has no capacity for right now (the
// password-hash queue is full): 503 with Retry-After. Nothing is counted
// against the caller.
func Busy() *Problem {
	return &Problem{Status: http.StatusServiceUnavailable, Code: "temporarily_unavailable",
		Message: "the server is busy; try again in a moment", Reason: "server_busy",
		Headers: http.Header{"Retry-After": {"1"}}}
}
