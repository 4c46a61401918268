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
)

// answer is one cell of the table; a zero answer is the surface's
// default (a 500).
type answer struct {
	status       int
	code, reason string
	message      string // "" is the error's own text
}

// table is THE mapping from store errors to answers, by surface, first
// match wins (errors.Is). Refusals (*Error) and problems come before it
// (see From).
var table = []struct {
	err        error
	api, admin answer
}{
	// The store's own name check (CreatePAT, a device approval).
	{authstore.ErrInvalidName,
		answer{http.StatusBadRequest, "invalid_request", "pat_invalid", ""},
		answer{http.StatusBadRequest, "invalid_request", "invalid_name", ""}},
	{authstore.ErrUserDisabled,
		answer{http.StatusConflict, "user_disabled", "user_disabled", "user disabled"},
		answer{http.StatusConflict, "user_disabled", "user_disabled", ""}},
	{authstore.ErrNotFound,
		answer{},
		answer{http.StatusNotFound, "not_found", "not_found", ""}},
	{authstore.ErrExists,
		answer{},
		answer{http.StatusConflict, "conflict", "exists", ""}},
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
	for _, row := range table {
		if !errors.Is(err, row.err) {
			continue
		}
		a := row.api
		if s == Admin {
			a = row.admin
		}
		if a.status == 0 {
			break
		}
		msg := a.message
		if msg == "" {
			msg = err.Error()
		}
		return &Problem{Status: a.status, Code: a.code, Message: msg, Reason: a.reason}
	}
	if s == Admin {
		return &Problem{Status: http.StatusInternalServerError, Code: "server_error", Message: err.Error(), Reason: "internal_error"}
	}
	return Internal()
}
