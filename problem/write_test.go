package problem

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestWrite checks every kind of answer the one writer gives: status,
// challenge, Gatehouse-Accepted-Scopes, extra headers and the JSON body,
// never cached.
func TestWrite(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		p         *Problem
		status    int
		challenge string
		accepted  string
		header    [2]string
		body      Body
	}{
		{"no credential", Unauthenticated(), 401, `Bearer realm="r"`, "", [2]string{},
			Body{Error: "unauthorized", Message: "authentication required: send Authorization: Bearer <token>"}},
		{"invalid token", InvalidToken("token_expired", "token expired", "tok_1"), 401,
			`Bearer realm="r", error="invalid_token", error_description="token expired"`, "", [2]string{},
			Body{Error: "invalid_token", Message: "token expired"}},
		{"bad header", BadAuthorization("malformed_authorization", "send one"), 400,
			`Bearer realm="r", error="invalid_request", error_description="send one"`, "", [2]string{},
			Body{Error: "invalid_request", Message: "send one"}},
		{"missing scope", InsufficientScope("papers:write", "papers:write wiki:write"), 403,
			`Bearer realm="r", error="insufficient_scope", error_description="insufficient scope: this token lacks papers:write", scope="papers:write"`,
			"papers:write wiki:write", [2]string{}, Body{Error: "insufficient_scope", Message: "insufficient scope: this token lacks papers:write"}},
		{"challenge code differs", &Problem{Status: 403, Code: "insufficient_role", ChallengeCode: "insufficient_scope", Message: "m", Challenge: WithCode}, 403,
			`Bearer realm="r", error="insufficient_scope", error_description="m"`, "", [2]string{}, Body{Error: "insufficient_role", Message: "m"}},
		{"forbidden", Forbidden("rule_deny", "denied"), 403, "", "", [2]string{}, Body{Error: "forbidden", Message: "denied"}},
		{"invalid", Invalid("ambiguous_path", "cleaned"), 400, "", "", [2]string{}, Body{Error: "invalid_request", Message: "cleaned"}},
		{"new", New(409, "conflict", "taken", "taken"), 409, "", "", [2]string{}, Body{Error: "conflict", Message: "taken"}},
		{"busy", Busy(), 503, "", "", [2]string{"Retry-After", "1"}, Body{Error: "temporarily_unavailable", Message: "the server is busy; try again in a moment"}},
		{"internal", Internal(), 500, "", "", [2]string{}, Body{Error: "server_error", Message: "internal error"}},
		{"oauth", &Problem{Status: 400, Code: "authorization_pending", Message: "not yet", OAuth: true}, 400, "", "", [2]string{},
			Body{Error: "authorization_pending", Description: "not yet", Message: "not yet"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			Write(w, "r", tc.p)
			h := w.Result().Header
			if w.Code != tc.status || h.Get("WWW-Authenticate") != tc.challenge || h.Get(AcceptedScopesHeader) != tc.accepted {
				t.Errorf("%d %q %q", w.Code, h.Get("WWW-Authenticate"), h.Get(AcceptedScopesHeader))
			}
			if tc.header[0] != "" && h.Get(tc.header[0]) != tc.header[1] {
				t.Errorf("%s: %q", tc.header[0], h.Get(tc.header[0]))
			}
			if h.Get("Cache-Control") != "no-store" || h.Get("Content-Type") != "application/json; charset=utf-8" {
				t.Errorf("headers %v", h)
			}
			var got Body
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || got != tc.body {
				t.Errorf("body %s, want %+v", w.Body, tc.body)
			}
			if tc.p.Error() == "" {
				t.Error("empty Error()")
			}
		})
	}
}

// TestWriteJSONUnencodable: a value that cannot be encoded becomes a 500
// with the standard body, never a half-written one.
func TestWriteJSONUnencodable(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	WriteJSON(w, http.StatusOK, map[string]any{"f": func() {}})
	if w.Code != 500 || w.Body.String() != `{"error":"server_error","message":"internal error"}`+"\n" {
		t.Errorf("%d %s", w.Code, w.Body)
	}
}
