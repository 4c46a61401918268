package problem

import (
	"fmt"
	"net/http"
)

// Kind says how an operation refused what it was asked, without saying
// how any surface answers it; From does that.
type Kind uint8

const (
	// KindInvalid: the input is wrong (a name, scope, lifetime, role).
	KindInvalid Kind = iota + 1
	// KindNotFound: the thing named does not exist, or the caller may
	// not know of it.
	KindNotFound
	// KindConflict: the input is fine but the state forbids it now (a
	// disabled user, TOTP already on).
	KindConflict
	// KindForbidden: the caller may not do this with the credential it
	// holds.
	KindForbidden
)

// Status is the HTTP status of a refusal of kind k.
func (k Kind) Status() int {
	switch k {
	case KindInvalid:
		return http.StatusBadRequest
	case KindNotFound:
		return http.StatusNotFound
	case KindConflict:
		return http.StatusConflict
	case KindForbidden:
		return http.StatusForbidden
	}
	return http.StatusInternalServerError
}

// Error is an operation's refusal of what it was asked (package service
// returns them): its kind, and a message fit for whoever asked, which
// never holds a secret. From turns it into the answer.
type Error struct {
	Kind Kind
	// Code is the JSON error code; "" is invalid_request, the code every
	// refused request has answered with.
	Code string
	// Reason is the cause for logs and metrics; "" is the surface's.
	Reason string
	// Err is what was wrong; its text is the message.
	Err error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Errorf is a refusal of kind whose message is the formatted text (%w
// wraps as fmt.Errorf does).
func Errorf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Err: fmt.Errorf(format, args...)}
}

// Wrap is a refusal of kind whose message is err's.
func Wrap(kind Kind, err error) *Error { return &Error{Kind: kind, Err: err} }
