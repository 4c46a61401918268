package caddymodule

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/requestcheck"
)

// denial is a refused request: everything needed to answer it (status,
// RFC 6750 challenge, JSON body) and to log and count it (reason, subject).
type denial struct {
	status int
	// code is the JSON "error" value; for 400/401/403 auth failures it is
	// also the RFC 6750 error code in the challenge (challenge decides).
	code    string
	message string
	// challenge: send WWW-Authenticate; withCode adds error="code".
	challenge, withCode bool
	// challengeCode, when set, is the challenge's RFC 6750 error code where
	// the JSON code is more precise (insufficient_role answers with
	// error="insufficient_scope", the nearest code RFC 6750 defines).
	challengeCode string
	// scope is the missing scope for insufficient_scope.
	scope string
	// accepted is what the route accepts (Gatehouse-Accepted-Scopes).
	accepted string
	// reason is the machine-readable cause for logs and metrics.
	reason string
	// subject identifies the credential in logs: a token id or hint, never
	// a secret.
	subject string
	// headers are extra response headers (Retry-After, RateLimit).
	headers http.Header
	// description adds error_description to the body: OAuth endpoints
	// answer in RFC 6749 §5.2 form.
	description bool
}

// bodyError is a 400 about the request itself (its path or body), which
// is no matter for an authentication challenge.
func bodyError(reason, msg string) *denial {
	return &denial{status: http.StatusBadRequest, code: "invalid_request", message: msg, reason: reason}
}

// requestProblem answers a request that requestcheck refused: a 400 (or
// 413) about the request itself, with no challenge.
func requestProblem(p *requestcheck.Problem) *denial {
	return &denial{status: p.Status, code: "invalid_request", message: p.Message, reason: p.Reason}
}

// badRequest is a 400 about the Authorization header: RFC 6750's
// invalid_request, with its challenge.
func badRequest(reason, msg string) *denial {
	return &denial{status: http.StatusBadRequest, code: "invalid_request", message: msg, challenge: true, withCode: true, reason: reason}
}

func unauthenticated() *denial {
	return &denial{status: http.StatusUnauthorized, code: "unauthorized", message: "authentication required: send Authorization: Bearer <token>", challenge: true, reason: "no_credential"}
}

func invalidToken(reason, msg, subject string) *denial {
	return &denial{status: http.StatusUnauthorized, code: "invalid_token", message: msg, challenge: true, withCode: true, reason: reason, subject: subject}
}

func forbidden(reason, msg string) *denial {
	return &denial{status: http.StatusForbidden, code: "forbidden", message: msg, reason: reason}
}

func insufficientScope(missing, accepted string) *denial {
	return &denial{
		status: http.StatusForbidden, code: "insufficient_scope",
		message:   "insufficient scope: this token lacks " + missing,
		challenge: true, withCode: true, scope: missing, accepted: accepted, reason: "insufficient_scope",
	}
}

func internalError() *denial {
	return &denial{status: http.StatusInternalServerError, code: "server_error", message: "internal error", reason: "internal_error"}
}

// busy refuses a request the server has no capacity for right now (the
// password-hash queue is full): 503 with Retry-After. Nothing is counted
// against the caller.
func busy() *denial {
	return &denial{status: http.StatusServiceUnavailable, code: "temporarily_unavailable",
		message: "the server is busy; try again in a moment", reason: "server_busy",
		headers: http.Header{"Retry-After": {"1"}}}
}

// writeDenial is the one place that answers a refused request: the RFC 6750
// challenge, Gatehouse-Accepted-Scopes, any extra headers, and a JSON body
// {"error","message"}.
func writeDenial(w http.ResponseWriter, realm string, d *denial) {
	h := w.Header()
	if d.challenge {
		h.Set("WWW-Authenticate", challenge(realm, d))
	}
	if d.accepted != "" {
		h.Set(api.HeaderAcceptedScopes, d.accepted)
	}
	for k, v := range d.headers {
		h[k] = v
	}
	body := api.Error{Error: d.code, Message: d.message}
	if d.description {
		body.Description = d.message
	}
	writeJSON(w, d.status, body)
}

func challenge(realm string, d *denial) string {
	var b strings.Builder
	fmt.Fprintf(&b, `Bearer realm=%q`, realm)
	if d.withCode {
		code := d.code
		if d.challengeCode != "" {
			code = d.challengeCode
		}
		fmt.Fprintf(&b, `, error=%q, error_description=%q`, code, d.message)
		if d.scope != "" {
			fmt.Fprintf(&b, `, scope=%q`, d.scope)
		}
	}
	return b.String()
}

// writeJSON writes v as the JSON body with status; responses about
// credentials are never cached.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // bodies are JSON for clients, not HTML
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error":"server_error","message":"internal error"}` + "\n")
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// logDenial writes the one log line a denial gets: reason, rule, user and
// token id or hint; never a token, cookie or password.
func logDenial(logger *zap.Logger, r *http.Request, d *denial, id *Identity, rule int) {
	level := zapcore.InfoLevel
	if d.status >= 500 {
		level = zapcore.ErrorLevel
	}
	ce := logger.Check(level, "request denied")
	if ce == nil {
		return
	}
	fields := []zap.Field{
		zap.Int("status", d.status),
		zap.String("reason", d.reason),
		zap.String("method", r.Method),
		zap.String("path", r.URL.Path),
		zap.String("client_ip", clientIP(r)),
	}
	if rule >= 0 {
		fields = append(fields, zap.Int("rule", rule+1))
	}
	if id != nil && id.User != nil {
		fields = append(fields, zap.String("user", id.User.Login))
		if id.PAT != nil {
			fields = append(fields, zap.String("token_id", id.PAT.ID))
		}
	}
	if d.subject != "" {
		fields = append(fields, zap.String("credential", d.subject))
	}
	ce.Write(fields...)
}
