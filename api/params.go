package api

// DeviceGrantType is the grant_type of RFC 8628 token requests
// (POST PathDeviceToken).
const DeviceGrantType = "urn:ietf:params:oauth:grant-type:device_code"

// Form parameter names of the API endpoints. The OAuth endpoints take
// application/x-www-form-urlencoded bodies; the others take a form or a
// JSON object with the same names.
const (
	// POST PathDeviceCode and PathDeviceToken (RFC 8628), PathRefresh.
	ParamClientID    = "client_id"
	ParamScope       = "scope" // scopes separated by spaces
	ParamTokenName   = "token_name"
	ParamExpiresDays = "expires_days"
	ParamGrantType   = "grant_type"
	ParamDeviceCode  = "device_code"
	// ParamSession, "1" on a PathDeviceToken poll, asks for a CLI session
	// (access JWT and refresh token, as DeviceTokenResponse's
	// RefreshToken) instead of a personal access token.
	ParamSession = "session"
	// ParamUserCode is the query parameter of verification_uri_complete.
	ParamUserCode = "user_code"

	// POST PathSession and PathRefresh.
	ParamLogin        = "login"
	ParamPassword     = "password"
	ParamTOTP         = "totp"
	ParamRefreshToken = "refresh_token"

	// POST PathRevoke.
	ParamToken   = "token"
	ParamTokenID = "token_id"

	// POST PathLogout: "1", "true" or "on" ends every session of the user.
	ParamAll = "all"
)

// RefreshGrantType is the only grant_type POST PathRefresh accepts (it
// may also be left out).
const RefreshGrantType = "refresh_token"
