package problem

import (
	"errors"
	"net/http"

	"github.com/gatehouse/gatehouse/authstore"
)

// Surface is where an operation's error is answered. The same error may
// answer differently on each: a disabled user is 409 user_disabled "user
// disabled" on the PAT API, and 409 with the store's own words on the
// admin API.
type Surface uint8

const (
	// API is Gatehouse's own endpoints and pages for a signed-in user
	// (the PAT page and API, device approval): a refusal answers with
	// its message; any other failure is a 500 whose cause goes to the
	// log, never to the client.
	API Surface = iota
	// Bearer is an endpoint that acts on the credential sent (revoke):
	// as API, but an invalid request carries the RFC 6750 challenge.
	Bearer
	// Admin is the admin API, the operator's: the message is the error
	// itself, which names what failed and never holds a secret, even on
	// a 500.
	Admin
	// PAT is verifying a personal access token sent as Bearer: RFC 6750
	// invalid_token answers.
	PAT
	// Session is verifying a session JWT, sent as Bearer or as the
	// cookie: RFC 6750 invalid_token answers.
	Session
	// Refresh is the token endpoint's refresh grant: RFC 6749 §5.2
	// invalid_grant answers.
	Refresh
	// DevicePoll is the device flow's token endpoint: RFC 8628 §3.5
	// answers.
	DevicePoll
)

// style is how an answer is shaped beyond status, code and message.
type style uint8

const (
	plain        style = iota
	invalidToken       // RFC 6750 invalid_token: 401 with the challenge
	oauth              // RFC 6749 §5.2: error_description in the body
)

// answer is one cell of the table.
type answer struct {
	status       int
	code, reason string
	message      string // "" is the error's own text
	style        style
}

func token(reason, msg string) answer {
	return answer{http.StatusUnauthorized, "invalid_token", reason, msg, invalidToken}
}

func grant(code, reason, msg string) answer {
	return answer{http.StatusBadRequest, code, reason, msg, oauth}
}

// table is THE mapping from store errors to answers, by surface, first
// match wins (errors.Is); Bearer reads API's rows. Refusals (*Error) and
// problems come before it (see From). An error without a row on a
// surface is the server's: a 500.
var table = []struct {
	err error
	on  Surface
	answer
}{
	// The store's own name check (CreatePAT, a device approval).
	{authstore.ErrInvalidName, API, answer{http.StatusBadRequest, "invalid_request", "pat_invalid", "", plain}},
	{authstore.ErrInvalidName, Admin, answer{http.StatusBadRequest, "invalid_request", "invalid_name", "", plain}},
	{authstore.ErrUserDisabled, API, answer{http.StatusConflict, "user_disabled", "user_disabled", "user disabled", plain}},
	{authstore.ErrUserDisabled, Admin, answer{http.StatusConflict, "user_disabled", "user_disabled", "", plain}},
	{authstore.ErrNotFound, Admin, answer{http.StatusNotFound, "not_found", "not_found", "", plain}},
	{authstore.ErrExists, Admin, answer{http.StatusConflict, "conflict", "exists", "", plain}},

	{authstore.ErrUnknownToken, PAT, token("unknown_token", "unknown token")},
	{authstore.ErrMalformedToken, PAT, token("malformed_token", "malformed token")},
	{authstore.ErrExpired, PAT, token("token_expired", "token expired")},
	{authstore.ErrRevoked, PAT, token("token_revoked", "token revoked")},
	{authstore.ErrUserDisabled, PAT, token("user_disabled", "user disabled")},

	{authstore.ErrExpired, Session, token("session_expired", "session expired")},
	{authstore.ErrRevoked, Session, token("session_revoked", "session revoked")},
	{authstore.ErrUserDisabled, Session, token("user_disabled", "user disabled")},
	{authstore.ErrUnknownToken, Session, token("session_unknown", "unknown session")},
	{authstore.ErrMalformedToken, Session, token("malformed_token", "malformed token")},

	{authstore.ErrRefreshReuse, Refresh, grant("invalid_grant", "refresh_reuse", "refresh token already used; the session has been revoked, log in again")},
	{authstore.ErrRevoked, Refresh, grant("invalid_grant", "session_revoked", "the session has been revoked; log in again")},
	{authstore.ErrExpired, Refresh, grant("invalid_grant", "session_expired", "the session has expired; log in again")},
	{authstore.ErrUserDisabled, Refresh, grant("invalid_grant", "user_disabled", "user disabled")},
	{authstore.ErrUnknownToken, Refresh, grant("invalid_grant", "refresh_unknown", "unknown refresh token")},
	{authstore.ErrMalformedToken, Refresh, grant("invalid_grant", "refresh_unknown", "unknown refresh token")},
	{authstore.ErrTokenChecksum, Refresh, grant("invalid_grant", "refresh_unknown", "unknown refresh token")},

	{authstore.ErrAuthorizationPending, DevicePoll, grant("authorization_pending", "device_authorization_pending", "the user has not yet approved this request")},
	{authstore.ErrSlowDown, DevicePoll, grant("slow_down", "device_slow_down", "polling too fast")},
	// A user disabled between approval and poll denies it too.
	{authstore.ErrAccessDenied, DevicePoll, grant("access_denied", "device_access_denied", "the user denied this request")},
	{authstore.ErrUserDisabled, DevicePoll, grant("access_denied", "device_access_denied", "the user denied this request")},
	{authstore.ErrExpired, DevicePoll, grant("expired_token", "device_expired_token", "the device code expired; start again")},
	{authstore.ErrDeviceCodeUsed, DevicePoll, grant("invalid_grant", "device_invalid_grant", "the device code was already used")},
	{authstore.ErrNotFound, DevicePoll, grant("invalid_grant", "device_invalid_grant", "unknown device code")},
}

// From is the one function that turns an operation's error into the
// answer surface gives it:
//   - a refusal (*Error): its kind's status, its code (invalid_request
//     unless it names one), its message; on Bearer an invalid request
//     carries the challenge;
//   - a *Problem: itself; on Admin its status and message with
//     invalid_request, as every refused admin request body has answered;
//   - a store error: the table's row for surface;
//   - anything else: 500, with the error's text on Admin only.
//
// From(nil, s) is nil.
func From(err error, s Surface) *Problem {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		p := &Problem{Status: e.Kind.Status(), Code: e.Code, Message: e.Error(), Reason: e.Reason}
		if p.Code == "" {
			p.Code = "invalid_request"
		}
		if p.Reason == "" {
			p.Reason = "pat_invalid"
			if s == Admin {
				p.Reason = "admin_refused"
			}
		}
		if s == Bearer && e.Kind == KindInvalid {
			p.Challenge = WithCode
		}
		return p
	}
	var pr *Problem
	if errors.As(err, &pr) {
		if s == Admin {
			return &Problem{Status: pr.Status, Code: "invalid_request", Message: pr.Message, Reason: pr.Reason}
		}
		return pr
	}
	if p := fleetUnavailable(err); p != nil {
		return p
	}
	rows := s
	if s == Bearer {
		rows = API
	}
	for _, row := range table {
		if row.on != rows || !errors.Is(err, row.err) {
			continue
		}
		msg := row.message
		if msg == "" {
			msg = err.Error()
		}
		p := &Problem{Status: row.status, Code: row.code, Message: msg, Reason: row.reason}
		switch row.style {
		case invalidToken:
			p.Challenge = WithCode
		case oauth:
			p.OAuth = true
		}
		return p
	}
	if s == Admin {
		return &Problem{Status: http.StatusInternalServerError, Code: "server_error", Message: err.Error(), Reason: "internal_error"}
	}
	return Internal()
}

// fleetUnavailable answers a fleet-mode store that cannot serve: writes
// while etcd is unreachable (they fail closed), credential checks on an
// edge cut off past its max_staleness, and writes that kept losing to
// other edges. The same 503 on every surface: nothing is wrong with the
// request, and nothing was counted against the caller.
func fleetUnavailable(err error) *Problem {
	var msg, reason string
	switch {
	case errors.Is(err, authstore.ErrStale):
		msg, reason = "this edge cannot confirm credentials with the fleet right now; try again shortly", "store_stale"
	case errors.Is(err, authstore.ErrUnavailable):
		msg, reason = "the credential store cannot take changes right now; try again shortly", "store_unavailable"
	case errors.Is(err, authstore.ErrConflict):
		msg, reason = "too many concurrent changes; try again", "store_conflict"
	default:
		return nil
	}
	return &Problem{Status: http.StatusServiceUnavailable, Code: "temporarily_unavailable",
		Message: msg, Reason: reason, Headers: http.Header{"Retry-After": {"1"}}}
}
