package problem

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/authstore"
)

// TestFrom pins the table: each error's status, code, message, reason
// and challenge on each surface, as the endpoints answered before the
// table existed.
func TestFrom(t *testing.T) {
	t.Parallel()
	wrapped := func(err error) error { return fmt.Errorf("creating token: %w", err) }
	invalid := Errorf(KindInvalid, "expiry %d days: must be 1 to %d", 0, 30)
	notFound := &Error{Kind: KindNotFound, Code: "not_found", Reason: "revoke_unknown", Err: errors.New("no such token")}
	body := &Problem{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Reason: "bad_body", Message: "send JSON"}
	type want struct {
		status                int
		code, message, reason string
		challenge             Challenge
	}
	for _, tc := range []struct {
		name string
		err  error
		s    Surface
		want want
	}{
		{"refusal on the API", invalid, API, want{400, "invalid_request", "expiry 0 days: must be 1 to 30", "pat_invalid", NoChallenge}},
		{"refusal on Bearer carries the challenge", invalid, Bearer, want{400, "invalid_request", "expiry 0 days: must be 1 to 30", "pat_invalid", WithCode}},
		{"refusal on the admin API", invalid, Admin, want{400, "invalid_request", "expiry 0 days: must be 1 to 30", "admin_refused", NoChallenge}},
		{"wrapped refusal: its own message", wrapped(invalid), API, want{400, "invalid_request", "expiry 0 days: must be 1 to 30", "pat_invalid", NoChallenge}},
		{"conflict keeps invalid_request", Errorf(KindConflict, "user alice is disabled"), API, want{409, "invalid_request", "user alice is disabled", "pat_invalid", NoChallenge}},
		{"not found with its code", notFound, Bearer, want{404, "not_found", "no such token", "revoke_unknown", NoChallenge}},
		{"not found without one", Errorf(KindNotFound, "alice has no membership on project:a"), Admin, want{404, "invalid_request", "alice has no membership on project:a", "admin_refused", NoChallenge}},
		{"forbidden", &Error{Kind: KindForbidden, Code: "forbidden", Reason: "revoke_other", Err: errors.New("only itself")}, Bearer, want{403, "forbidden", "only itself", "revoke_other", NoChallenge}},
		{"a refusal wrapping a store error is the refusal", Wrap(KindInvalid, authstore.ErrUserDisabled), API, want{400, "invalid_request", "user disabled", "pat_invalid", NoChallenge}},
		{"problem on the API is itself", body, API, want{415, "unsupported_media_type", "send JSON", "bad_body", NoChallenge}},
		{"problem on the admin API", body, Admin, want{415, "invalid_request", "send JSON", "bad_body", NoChallenge}},
		{"invalid name on the API", wrapped(authstore.ErrInvalidName), API, want{400, "invalid_request", "creating token: invalid name", "pat_invalid", NoChallenge}},
		{"invalid name on the admin API", authstore.ErrInvalidName, Admin, want{400, "invalid_request", "invalid name", "invalid_name", NoChallenge}},
		{"disabled user on the API", wrapped(authstore.ErrUserDisabled), API, want{409, "user_disabled", "user disabled", "user_disabled", NoChallenge}},
		{"disabled user on the admin API", wrapped(authstore.ErrUserDisabled), Admin, want{409, "user_disabled", "creating token: user disabled", "user_disabled", NoChallenge}},
		{"not found on the API is the server's", authstore.ErrNotFound, API, want{500, "server_error", "internal error", "internal_error", NoChallenge}},
		{"not found on the admin API", wrapped(authstore.ErrNotFound), Admin, want{404, "not_found", "creating token: not found", "not_found", NoChallenge}},
		{"exists on Bearer is the server's", authstore.ErrExists, Bearer, want{500, "server_error", "internal error", "internal_error", NoChallenge}},
		{"exists on the admin API", authstore.ErrExists, Admin, want{409, "conflict", "already exists", "exists", NoChallenge}},
		{"anything else on the API", errors.New("disk full"), API, want{500, "server_error", "internal error", "internal_error", NoChallenge}},
		{"anything else on the admin API", errors.New("disk full"), Admin, want{500, "server_error", "disk full", "internal_error", NoChallenge}},
		{"stale edge verifying a PAT", wrapped(authstore.ErrStale), PAT, want{503, "temporarily_unavailable", "this edge cannot confirm credentials with the fleet right now; try again shortly", "store_stale", NoChallenge}},
		{"fleet write while etcd is down", wrapped(authstore.ErrUnavailable), API, want{503, "temporarily_unavailable", "the credential store cannot take changes right now; try again shortly", "store_unavailable", NoChallenge}},
		{"fleet write while etcd is down, admin", authstore.ErrUnavailable, Admin, want{503, "temporarily_unavailable", "the credential store cannot take changes right now; try again shortly", "store_unavailable", NoChallenge}},
		{"fleet write losing every retry", authstore.ErrConflict, Refresh, want{503, "temporarily_unavailable", "too many concurrent changes; try again", "store_conflict", NoChallenge}},
		{"unknown PAT", authstore.ErrUnknownToken, PAT, want{401, "invalid_token", "unknown token", "unknown_token", WithCode}},
		{"expired PAT", wrapped(authstore.ErrExpired), PAT, want{401, "invalid_token", "token expired", "token_expired", WithCode}},
		{"revoked PAT", authstore.ErrRevoked, PAT, want{401, "invalid_token", "token revoked", "token_revoked", WithCode}},
		{"PAT of a disabled user", authstore.ErrUserDisabled, PAT, want{401, "invalid_token", "user disabled", "user_disabled", WithCode}},
		{"PAT store failure", errors.New("disk full"), PAT, want{500, "server_error", "internal error", "internal_error", NoChallenge}},
		{"expired session", authstore.ErrExpired, Session, want{401, "invalid_token", "session expired", "session_expired", WithCode}},
		{"revoked session", authstore.ErrRevoked, Session, want{401, "invalid_token", "session revoked", "session_revoked", WithCode}},
		{"unknown session", authstore.ErrUnknownToken, Session, want{401, "invalid_token", "unknown session", "session_unknown", WithCode}},
		{"malformed session", authstore.ErrMalformedToken, Session, want{401, "invalid_token", "malformed token", "malformed_token", WithCode}},
		{"session not found is the server's", authstore.ErrNotFound, Session, want{500, "server_error", "internal error", "internal_error", NoChallenge}},
		{"refresh reused", authstore.ErrRefreshReuse, Refresh, want{400, "invalid_grant", "refresh token already used; the session has been revoked, log in again", "refresh_reuse", NoChallenge}},
		{"refresh of an expired session", authstore.ErrExpired, Refresh, want{400, "invalid_grant", "the session has expired; log in again", "session_expired", NoChallenge}},
		{"refresh with a bad checksum", authstore.ErrTokenChecksum, Refresh, want{400, "invalid_grant", "unknown refresh token", "refresh_unknown", NoChallenge}},
		{"device pending", authstore.ErrAuthorizationPending, DevicePoll, want{400, "authorization_pending", "the user has not yet approved this request", "device_authorization_pending", NoChallenge}},
		{"device denied", authstore.ErrAccessDenied, DevicePoll, want{400, "access_denied", "the user denied this request", "device_access_denied", NoChallenge}},
		{"device user disabled is a denial", authstore.ErrUserDisabled, DevicePoll, want{400, "access_denied", "the user denied this request", "device_access_denied", NoChallenge}},
		{"device code expired", authstore.ErrExpired, DevicePoll, want{400, "expired_token", "the device code expired; start again", "device_expired_token", NoChallenge}},
		{"device code used", authstore.ErrDeviceCodeUsed, DevicePoll, want{400, "invalid_grant", "the device code was already used", "device_invalid_grant", NoChallenge}},
		{"device code unknown", authstore.ErrNotFound, DevicePoll, want{400, "invalid_grant", "unknown device code", "device_invalid_grant", NoChallenge}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := From(tc.err, tc.s)
			got := want{p.Status, p.Code, p.Message, p.Reason, p.Challenge}
			if got != tc.want {
				t.Errorf("From:\n got %+v\nwant %+v", got, tc.want)
			}
			if oauth := tc.s == Refresh || tc.s == DevicePoll; p.OAuth != (oauth && p.Status < 500) {
				t.Errorf("OAuth body %v on surface %d", p.OAuth, tc.s)
			}
		})
	}
	if From(nil, API) != nil {
		t.Error("From(nil) is not nil")
	}
}

func TestKind(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		k      Kind
		status int
	}{
		{KindInvalid, 400}, {KindNotFound, 404}, {KindConflict, 409}, {KindForbidden, 403}, {0, 500},
	} {
		if got := tc.k.Status(); got != tc.status {
			t.Errorf("kind %d: status %d, want %d", tc.k, got, tc.status)
		}
	}
	e := Wrap(KindInvalid, authstore.ErrInvalidName)
	if !errors.Is(e, authstore.ErrInvalidName) || e.Error() != "invalid name" {
		t.Errorf("Wrap: %v", e)
	}
	if e := Errorf(KindConflict, "x: %w", authstore.ErrExists); !errors.Is(e, authstore.ErrExists) {
		t.Errorf("Errorf does not wrap: %v", e)
	}
}

// TestWriteFromBearer: a refusal answered on Bearer has RFC 6750's
// challenge and the JSON body, with the message in both.
func TestWriteFromBearer(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	Write(w, "gatehouse", From(Errorf(KindInvalid, "name the token to revoke"), Bearer))
	if w.Code != 400 || !strings.Contains(w.Header().Get("WWW-Authenticate"), `error="invalid_request", error_description="name the token to revoke"`) ||
		strings.TrimSpace(w.Body.String()) != `{"error":"invalid_request","message":"name the token to revoke"}` {
		t.Errorf("%d %q %s", w.Code, w.Header().Get("WWW-Authenticate"), w.Body)
	}
}
