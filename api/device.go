package api

// DeviceCodeResponse is the answer of POST PathDeviceCode (RFC 8628
// §3.2).
type DeviceCodeResponse struct {
	DeviceCode string `json:"device_code"`
	// UserCode is shown with a dash, `WDJB-MJHT`.
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int    `json:"expires_in"` // seconds
	Interval                int    `json:"interval"`   // seconds between polls
}

// DeviceTokenResponse is the answer of POST PathDeviceToken once the
// grant is approved (RFC 8628 §3.5): the PAT, once; or, when the client
// polled with ParamSession=1, a CLI session's access JWT and its refresh
// token (RFC 6749 §5.1), as POST PathSession would answer.
type DeviceTokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"` // "Bearer"
	// ExpiresIn is the PAT's remaining life in seconds; absent if it
	// does not expire.
	ExpiresIn int64  `json:"expires_in,omitempty"`
	Scope     string `json:"scope"` // separated by spaces
	// RefreshToken, RefreshExpiresIn and SessionID are set for a CLI
	// session only.
	RefreshToken     string `json:"refresh_token,omitempty"`
	RefreshExpiresIn int64  `json:"refresh_expires_in,omitempty"`
	SessionID        string `json:"session_id,omitempty"`
}
