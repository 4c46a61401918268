package gate

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/decision"
)

// TestUpstreamHeadersChoice: a site sends the fields it names, under the
// names it gives, and nothing else.
func TestUpstreamHeadersChoice(t *testing.T) {
	t.Parallel()
	id := &Identity{Credential: decision.CredentialPAT, Tier: "pro", Scopes: []string{"read", "write"},
		User: &authstore.User{ID: "usr_1", Login: "alice"}, PAT: &authstore.PAT{ID: "tok_1"}, Resource: "project:atlas", Role: "edit"}
	for _, tc := range []struct {
		name   string
		fields []string
		rename map[string]string
		want   map[string]string
	}{
		{"default", nil, nil, map[string]string{api.HeaderCredential: "pat", api.HeaderTier: "pro", api.HeaderUserID: "usr_1", api.HeaderUser: "alice",
			api.HeaderScopes: "read write", api.HeaderTokenID: "tok_1", api.HeaderResource: "project:atlas", api.HeaderRole: "edit"}},
		{"three", []string{"user_id", "login", "scopes"}, nil, map[string]string{api.HeaderUserID: "usr_1", api.HeaderUser: "alice", api.HeaderScopes: "read write"}},
		{"renamed", []string{"user_id", "login"}, map[string]string{"login": "x-remote-user"}, map[string]string{api.HeaderUserID: "usr_1", "X-Remote-User": "alice"}},
		{"renamed only", []string{FieldsNone}, map[string]string{"login": "X-Remote-User"}, map[string]string{"X-Remote-User": "alice"}},
		{"rename keeps the rest", nil, map[string]string{"scopes": "X-Scopes"}, map[string]string{api.HeaderCredential: "pat", api.HeaderTier: "pro", api.HeaderUserID: "usr_1", api.HeaderUser: "alice",
			"X-Scopes": "read write", api.HeaderTokenID: "tok_1", api.HeaderResource: "project:atlas", api.HeaderRole: "edit"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := NewUpstreamHeaders(tc.fields, tc.rename)
			if err != nil {
				t.Fatal(err)
			}
			h := http.Header{}
			if s := u.Set(h, id); s != "read write" {
				t.Errorf("scopes %q", s)
			}
			if len(h) != len(tc.want) {
				t.Errorf("headers %v, want %v", h, tc.want)
			}
			for k, v := range tc.want {
				if got := h.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

// TestUpstreamHeadersStrip: a client's copies of a renamed header are
// deleted in every spelling a CGI-style upstream folds together, and
// Connection can no longer name it.
func TestUpstreamHeadersStrip(t *testing.T) {
	t.Parallel()
	u, err := NewUpstreamHeaders([]string{"user_id"}, map[string]string{"login": "X-Remote-User"})
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{"X-Remote-User": {"root"}, "X_remote_user": {"root"}, "X.Remote.User": {"root"}, "X-Remote-Users": {"keep"},
		"Connection": {"close, x-remote-user", "X_Remote_User"}}
	u.Strip(h)
	if len(h) != 2 || h.Get("X-Remote-Users") != "keep" || h.Get("Connection") != "close" {
		t.Errorf("after Strip: %v", h)
	}
	h = http.Header{"Connection": {"X-Remote-User"}}
	u.Strip(h)
	if len(h) != 0 {
		t.Errorf("a Connection naming only the header is left: %v", h)
	}
	// The default set has nothing outside the namespace to strip.
	h = http.Header{"X-Remote-User": {"x"}}
	DefaultUpstreamHeaders.Strip(h)
	if len(h) != 1 {
		t.Errorf("default Strip removed %v", h)
	}
}

func TestUpstreamHeadersErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		fields []string
		rename map[string]string
		want   string
	}{
		{"unknown field", []string{"email"}, nil, `unknown identity header "email"`},
		{"none among others", []string{"login", "none"}, nil, `unknown identity header "none"`},
		{"unknown renamed field", nil, map[string]string{"mail": "X-Mail"}, "header mail: unknown identity field"},
		{"bad name", nil, map[string]string{"login": "X Remote"}, "not a valid header name"},
		{"credential header", nil, map[string]string{"login": "Authorization"}, "belongs to the request"},
		{"folded framing header", nil, map[string]string{"login": "content_length"}, "belongs to the request"},
		{"two fields one name", nil, map[string]string{"login": "X-User", "user_id": "X_User"}, "both sent as"},
		{"rename onto a default", nil, map[string]string{"login": "Gatehouse-Tier"}, "identity headers login and tier are both sent as Gatehouse-Tier"},
	} {
		_, err := NewUpstreamHeaders(tc.fields, tc.rename)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
