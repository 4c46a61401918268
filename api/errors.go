package api

// Error is the JSON body of every refused request to a served endpoint
// and of every denial by a route rule:
//
//	{"error":"insufficient_scope","message":"insufficient scope: this token lacks papers:write"}
//
// The OAuth endpoints (device code and token) also set Description, in
// the form RFC 6749 §5.2 defines.
type Error struct {
	// Error is the machine-readable code; for 400, 401 and 403 denials of
	// a credential it is the RFC 6750 error code.
	Error string `json:"error"`
	// Description repeats Message as RFC 6749's error_description, on
	// OAuth endpoints only.
	Description string `json:"error_description,omitempty"`
	// Message says what went wrong, for a person.
	Message string `json:"message"`
}

// Error codes of POST PathSession and PathRefresh that a CLI branches on.
const (
	// ErrorTOTPRequired (401): the password was right, and the account
	// also needs its one-time code; send it again with totp. It counts
	// against the login backoff like a failed login.
	ErrorTOTPRequired = "totp_required"
	// ErrorInvalidCredentials (401): the login, password or code was
	// wrong; which one is never told.
	ErrorInvalidCredentials = "invalid_credentials"
	// ErrorInvalidGrant (400, RFC 6749 §5.2): the refresh token cannot be
	// rotated (expired, revoked or reused session, unknown token, user
	// disabled); the client has to log in again.
	ErrorInvalidGrant = "invalid_grant"
)
