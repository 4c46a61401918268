package api

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var (
	created = time.Date(2026, 6, 1, 9, 30, 0, 0, time.UTC)
	expires = time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	used    = time.Date(2026, 6, 2, 14, 5, 6, 0, time.UTC)
)

var user = UserInfo{
	ID: "u_1", Login: "alice", Kind: "user", Tier: "free", Scopes: []string{"papers:read", "wiki:read"},
	AllScopes: false, Disabled: true, Password: true, TOTP: true,
	Memberships: map[string]string{"project:atlas": "edit"}, Created: created,
}

var tokenInfo = TokenInfo{
	ID: "tok_1", User: "alice", Name: "laptop", Hint: "qat_abcd****", Scopes: []string{"papers:read"},
	Resources: map[string]string{"project:atlas": "read"}, AllResources: false,
	Created: created, Expires: &expires, LastUsed: &used, LastUsedIP: "192.0.2.7", CreatedVia: "web", Status: "active",
}

// goldens pins the JSON of every shape: the bytes the server writes and
// clients read. A failure here is a change to the wire contract; change
// the golden only when the contract is meant to change.
var goldens = []struct {
	name string
	v    any
	want string
}{
	{"Error", Error{Error: "insufficient_scope", Message: "insufficient scope: this token lacks papers:write"},
		`{"error":"insufficient_scope","message":"insufficient scope: this token lacks papers:write"}`},
	{"Error/OAuth", Error{Error: "slow_down", Description: "polling too fast", Message: "polling too fast"},
		`{"error":"slow_down","error_description":"polling too fast","message":"polling too fast"}`},

	{"Whoami/PAT", Whoami{
		UserID: "u_1", Login: "alice", Tier: "free", Credential: CredentialPAT, Scopes: []string{"papers:read"},
		TokenID: "tok_1", TokenName: "laptop", TokenHint: "qat_abcd****", ExpiresAt: expires,
	}, `{"user_id":"u_1","login":"alice","tier":"free","credential":"pat","scopes":["papers:read"],"token_id":"tok_1","token_name":"laptop","token_hint":"qat_abcd****","expires_at":"2026-09-01T00:00:00Z"}`},
	{"Whoami/session", Whoami{
		UserID: "u_1", Login: "alice", Tier: "free", Credential: CredentialSession, Scopes: []string{},
		SessionID: "ses_1", ExpiresAt: expires,
	}, `{"user_id":"u_1","login":"alice","tier":"free","credential":"session","scopes":[],"session_id":"ses_1","expires_at":"2026-09-01T00:00:00Z"}`},
	{"Whoami/no expiry", Whoami{UserID: "u_1", Login: "alice", Tier: "free", Credential: CredentialPAT, Scopes: []string{}, TokenID: "tok_1"},
		`{"user_id":"u_1","login":"alice","tier":"free","credential":"pat","scopes":[],"token_id":"tok_1"}`},
	{"RevokeResponse", RevokeResponse{Revoked: true, TokenID: "tok_1"}, `{"revoked":true,"token_id":"tok_1"}`},
	{"LogoutResponse", LogoutResponse{LoggedOut: true, SessionsRevoked: 2}, `{"logged_out":true,"sessions_revoked":2}`},
	{"CLITokens", CLITokens{
		AccessToken: "eyJ.a.b", TokenType: "Bearer", ExpiresIn: 900, RefreshToken: "ghr_x", RefreshExpiresIn: 1209600,
		SessionID: "ses_1", Scope: "papers:read wiki:read",
	}, `{"access_token":"eyJ.a.b","token_type":"Bearer","expires_in":900,"refresh_token":"ghr_x","refresh_expires_in":1209600,"session_id":"ses_1","scope":"papers:read wiki:read"}`},

	{"DeviceCodeResponse", DeviceCodeResponse{
		DeviceCode: "dc_1", UserCode: "WDJB-MJHT", VerificationURI: "https://gw.example/device",
		VerificationURIComplete: "https://gw.example/device?user_code=WDJB-MJHT", ExpiresIn: 600, Interval: 5,
	}, `{"device_code":"dc_1","user_code":"WDJB-MJHT","verification_uri":"https://gw.example/device","verification_uri_complete":"https://gw.example/device?user_code=WDJB-MJHT","expires_in":600,"interval":5}`},
	{"DeviceTokenResponse", DeviceTokenResponse{AccessToken: "qat_x", TokenType: "Bearer", ExpiresIn: 7776000, Scope: "papers:read"},
		`{"access_token":"qat_x","token_type":"Bearer","expires_in":7776000,"scope":"papers:read"}`},
	{"DeviceTokenResponse/no expiry", DeviceTokenResponse{AccessToken: "qat_x", TokenType: "Bearer", Scope: ""},
		`{"access_token":"qat_x","token_type":"Bearer","scope":""}`},

	{"TokenInfo", tokenInfo,
		`{"id":"tok_1","user":"alice","name":"laptop","hint":"qat_abcd****","scopes":["papers:read"],"resources":{"project:atlas":"read"},"all_resources":false,"created":"2026-06-01T09:30:00Z","expires":"2026-09-01T00:00:00Z","last_used":"2026-06-02T14:05:06Z","last_used_ip":"192.0.2.7","created_via":"web","status":"active"}`},
	{"TokenInfo/never used, no expiry", TokenInfo{ID: "tok_2", User: "bob", Name: "ci", Hint: "qat_efgh****", Scopes: []string{"wiki:read"},
		AllResources: true, Created: created, CreatedVia: "admin", Status: "revoked"},
		`{"id":"tok_2","user":"bob","name":"ci","hint":"qat_efgh****","scopes":["wiki:read"],"all_resources":true,"created":"2026-06-01T09:30:00Z","expires":null,"last_used":null,"created_via":"admin","status":"revoked"}`},
	{"CreatePATRequest", CreatePATRequest{Name: "laptop", Scopes: []string{"papers:read"}, ExpiresDays: 7, Resources: map[string]string{"project:atlas": "read"}},
		`{"name":"laptop","scopes":["papers:read"],"expires_days":7,"resources":{"project:atlas":"read"}}`},
	{"CreateTokenRequest", CreateTokenRequest{User: "alice", Name: "ci", Scopes: []string{"papers:read"}, ExpiresDays: 30, NoExpiry: true, Resources: map[string]string{"project:atlas": "read"}},
		`{"user":"alice","name":"ci","scopes":["papers:read"],"expires_days":30,"no_expiry":true,"resources":{"project:atlas":"read"}}`},
	{"CreateTokenResponse", CreateTokenResponse{Token: "qat_x", Info: tokenInfo},
		`{"token":"qat_x","info":{"id":"tok_1","user":"alice","name":"laptop","hint":"qat_abcd****","scopes":["papers:read"],"resources":{"project:atlas":"read"},"all_resources":false,"created":"2026-06-01T09:30:00Z","expires":"2026-09-01T00:00:00Z","last_used":"2026-06-02T14:05:06Z","last_used_ip":"192.0.2.7","created_via":"web","status":"active"}}`},

	{"RegisterRequest", RegisterRequest{AgentID: "bot-1", Scopes: []string{"graph:read"}, Tier: "free"},
		`{"agent_id":"bot-1","scopes":["graph:read"],"tier":"free"}`},
	{"RegisterResponse", RegisterResponse{
		Data:    RegisteredKey{APIKey: "kp_x", KeyPrefix: "kp_abcd", Scopes: []string{"graph:read"}, Tier: "free", CreatedAt: created},
		Message: "agent bot-1 registered.",
	}, `{"data":{"api_key":"kp_x","key_prefix":"kp_abcd","scopes":["graph:read"],"tier":"free","created_at":"2026-06-01T09:30:00Z"},"message":"agent bot-1 registered."}`},
	{"RegisteredKey", RegisteredKey{APIKey: "kp_x", KeyPrefix: "kp_abcd", Scopes: []string{"graph:read"}, Tier: "free", CreatedAt: created},
		`{"api_key":"kp_x","key_prefix":"kp_abcd","scopes":["graph:read"],"tier":"free","created_at":"2026-06-01T09:30:00Z"}`},
	{"RegisterRevokeRequest", RegisterRevokeRequest{KeyPrefix: "kp_abcd"}, `{"key_prefix":"kp_abcd"}`},
	{"RegisterRevokeResponse", RegisterRevokeResponse{
		Data: RevokedKey{KeyPrefix: "kp_abcd", Revoked: true, RevokedAt: used}, Message: "key revoked",
	}, `{"data":{"key_prefix":"kp_abcd","revoked":true,"revoked_at":"2026-06-02T14:05:06Z"},"message":"key revoked"}`},
	{"RevokedKey", RevokedKey{KeyPrefix: "kp_abcd", Revoked: true, RevokedAt: used},
		`{"key_prefix":"kp_abcd","revoked":true,"revoked_at":"2026-06-02T14:05:06Z"}`},

	{"Status", Status{Store: "/var/lib/gatehouse.db", Users: 3, Tokens: 5, TokenPrefix: "qat_", Scopes: []string{"papers:read"}, Tiers: []string{"free", "pro"}, Engine: "bbolt"},
		`{"store":"/var/lib/gatehouse.db","users":3,"tokens":5,"token_prefix":"qat_","scopes":["papers:read"],"tiers":["free","pro"],"engine":"bbolt"}`},
	{"Status/fleet", Status{Store: "/var/lib/mirror.db", Users: 1, Tokens: 0, TokenPrefix: "qat_", Scopes: []string{}, Tiers: []string{}, Engine: "etcd",
		Fleet: &FleetStatus{EdgeID: "edge-a", Endpoints: []string{"http://10.0.0.1:2379"}, Prefix: "/gatehouse/", Applied: 41, Known: 44,
			StalenessMS: 120, Resyncs: 1, Outbox: 0, Edges: []FleetEdge{{ID: "edge-a", Version: "v1", Applied: 41, Started: created, Updated: used}}}},
		`{"store":"/var/lib/mirror.db","users":1,"tokens":0,"token_prefix":"qat_","scopes":[],"tiers":[],"engine":"etcd","fleet":{"edge_id":"edge-a","endpoints":["http://10.0.0.1:2379"],"prefix":"/gatehouse/","applied_revision":41,"known_revision":44,"staleness_ms":120,"stale":false,"resyncs":1,"conflicts":0,"outbox":0,"edges":[{"id":"edge-a","version":"v1","applied_revision":41,"started":"2026-06-01T09:30:00Z","updated":"2026-06-02T14:05:06Z"}]}}`},
	{"FleetStatus", FleetStatus{EdgeID: "b", Endpoints: []string{}, Prefix: "/g/", Stale: true, Outbox: 2, Edges: []FleetEdge{}},
		`{"edge_id":"b","endpoints":[],"prefix":"/g/","applied_revision":0,"known_revision":0,"staleness_ms":0,"stale":true,"resyncs":0,"conflicts":0,"outbox":2,"edges":[]}`},
	{"FleetEdge", FleetEdge{ID: "a", Applied: 3, Started: created, Updated: used},
		`{"id":"a","applied_revision":3,"started":"2026-06-01T09:30:00Z","updated":"2026-06-02T14:05:06Z"}`},
	{"UserInfo", user,
		`{"id":"u_1","login":"alice","kind":"user","tier":"free","scopes":["papers:read","wiki:read"],"all_scopes":false,"disabled":true,"password":true,"totp":true,"memberships":{"project:atlas":"edit"},"created":"2026-06-01T09:30:00Z"}`},
	{"UserInfo/no memberships", UserInfo{ID: "u_2", Login: "bot", Kind: "agent", Tier: "free", Scopes: []string{}, AllScopes: true, Created: created},
		`{"id":"u_2","login":"bot","kind":"agent","tier":"free","scopes":[],"all_scopes":true,"disabled":false,"password":false,"totp":false,"created":"2026-06-01T09:30:00Z"}`},
	{"CreateUserRequest", CreateUserRequest{Login: "alice", Tier: "pro", Scopes: []string{"papers:read"}},
		`{"login":"alice","tier":"pro","scopes":["papers:read"]}`},
	{"CreateUserRequest/defaults", CreateUserRequest{Login: "alice"}, `{"login":"alice"}`},
	{"CreateUserRequest/admin", CreateUserRequest{Login: "root", Admin: true}, `{"login":"root","admin":true}`},
	{"SetTierRequest", SetTierRequest{Tier: "pro"}, `{"tier":"pro"}`},
	{"SetAdminRequest", SetAdminRequest{Admin: false}, `{"admin":false}`},
	{"UserInfo/admin with passkeys", UserInfo{ID: "u_3", Login: "root", Kind: "user", Tier: "free", Scopes: []string{}, Admin: true, Passkeys: 2, Created: created},
		`{"id":"u_3","login":"root","kind":"user","tier":"free","scopes":[],"all_scopes":false,"disabled":false,"admin":true,"password":false,"totp":false,"passkeys":2,"created":"2026-06-01T09:30:00Z"}`},
	{"SetPasswordRequest", SetPasswordRequest{PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"},
		`{"password_hash":"$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"}`},
	{"SetPasswordResponse", SetPasswordResponse{User: user, SessionsRevoked: 2},
		`{"user":{"id":"u_1","login":"alice","kind":"user","tier":"free","scopes":["papers:read","wiki:read"],"all_scopes":false,"disabled":true,"password":true,"totp":true,"memberships":{"project:atlas":"edit"},"created":"2026-06-01T09:30:00Z"},"sessions_revoked":2}`},
	{"TOTPResponse", TOTPResponse{User: user, URL: "otpauth://totp/gatehouse:alice?secret=JBSWY3DP"},
		`{"user":{"id":"u_1","login":"alice","kind":"user","tier":"free","scopes":["papers:read","wiki:read"],"all_scopes":false,"disabled":true,"password":true,"totp":true,"memberships":{"project:atlas":"edit"},"created":"2026-06-01T09:30:00Z"},"otpauth_url":"otpauth://totp/gatehouse:alice?secret=JBSWY3DP"}`},
	{"SessionInfo", SessionInfo{
		ID: "ses_1", User: "alice", Kind: "browser", Created: created, Expires: expires, LastSeen: &used, LastSeenIP: "192.0.2.8",
		IP: "192.0.2.7", UserAgent: "Firefox", Status: "revoked", Revoked: &used, Reason: "logout",
	}, `{"id":"ses_1","user":"alice","kind":"browser","created":"2026-06-01T09:30:00Z","expires":"2026-09-01T00:00:00Z","last_seen":"2026-06-02T14:05:06Z","last_seen_ip":"192.0.2.8","ip":"192.0.2.7","user_agent":"Firefox","status":"revoked","revoked":"2026-06-02T14:05:06Z","revoked_reason":"logout"}`},
	{"SessionInfo/fresh", SessionInfo{ID: "ses_2", User: "alice", Kind: "cli", Created: created, Expires: expires, Status: "active"},
		`{"id":"ses_2","user":"alice","kind":"cli","created":"2026-06-01T09:30:00Z","expires":"2026-09-01T00:00:00Z","last_seen":null,"status":"active"}`},
	{"RevokeSessionsResponse", RevokeSessionsResponse{User: "alice", Revoked: 3}, `{"user":"alice","revoked":3}`},
	{"Membership", Membership{User: "alice", Type: "project", Name: "atlas", Role: "edit", Resource: "project:atlas", Declared: true},
		`{"user":"alice","type":"project","name":"atlas","role":"edit","resource":"project:atlas","declared":true}`},
	{"MembershipRequest", MembershipRequest{User: "alice", Type: "project", Name: "atlas", Role: "edit"},
		`{"user":"alice","type":"project","name":"atlas","role":"edit"}`},
	{"MembershipRequest/removal", MembershipRequest{User: "alice", Type: "project", Name: "atlas"},
		`{"user":"alice","type":"project","name":"atlas"}`},
	{"MembershipChange", MembershipChange{User: "alice", Type: "project", Name: "atlas", Resource: "project:atlas", Role: "manage", Previous: "edit"},
		`{"user":"alice","type":"project","name":"atlas","resource":"project:atlas","role":"manage","previous":"edit"}`},
	{"IdentityLink", IdentityLink{User: "alice", Provider: "github", Subject: "583231", Linked: created},
		`{"user":"alice","provider":"github","subject":"583231","linked":"2026-06-01T09:30:00Z"}`},
	{"IdentityLinkRequest", IdentityLinkRequest{User: "alice", Provider: "corp", Subject: "00u1abcd"},
		`{"user":"alice","provider":"corp","subject":"00u1abcd"}`},
	{"IdentityLinkRequest/unlink", IdentityLinkRequest{Provider: "corp", Subject: "00u1abcd"},
		`{"provider":"corp","subject":"00u1abcd"}`},
	{"RotateKeyResponse", RotateKeyResponse{KeyID: "k2"}, `{"key_id":"k2"}`},
	{"RotateAssertionKeyRequest", RotateAssertionKeyRequest{Alg: "ES256", Overlap: "2h"}, `{"alg":"ES256","overlap":"2h"}`},
	{"AssertionKey", AssertionKey{KeyID: "ak_1", Alg: "EdDSA", CreatedAt: used, RetiredAt: &used, PublishUntil: &used, Published: true},
		`{"key_id":"ak_1","alg":"EdDSA","created_at":"2026-06-02T14:05:06Z","retired_at":"2026-06-02T14:05:06Z","publish_until":"2026-06-02T14:05:06Z","published":true}`},
	{"AssertionKey/current", AssertionKey{KeyID: "ak_2", Alg: "ES256", CreatedAt: used, Published: true},
		`{"key_id":"ak_2","alg":"ES256","created_at":"2026-06-02T14:05:06Z","published":true}`},
	{"RevokeCredentialsRequest", RevokeCredentialsRequest{Credentials: []string{"gth_x", "eyJ.x.y"}}, `{"credentials":["gth_x","eyJ.x.y"]}`},
	{"RevokeCredentialsResponse", RevokeCredentialsResponse{Message: "received"}, `{"message":"received"}`},
	{"StoreCheck", StoreCheck{Problems: []string{"token tok_1: owner u_9 missing"}, Store: "/var/lib/gatehouse.db"},
		`{"problems":["token tok_1: owner u_9 missing"],"store":"/var/lib/gatehouse.db"}`},
	{"AuditEvent", AuditEvent{
		Seq: 42, Time: used, Action: "token_revoked", Actor: AuditActor{Kind: "user", UserID: "u_1", IP: "192.0.2.7"},
		UserID: "u_1", TokenID: "tok_1", Detail: "laptop",
	}, `{"seq":42,"time":"2026-06-02T14:05:06Z","action":"token_revoked","actor":{"kind":"user","user_id":"u_1","ip":"192.0.2.7"},"user_id":"u_1","token_id":"tok_1","detail":"laptop"}`},
	{"AuditEvent/fleet", AuditEvent{Seq: 2, Time: created, Action: "token.revoked", Actor: AuditActor{Kind: "admin"}, Edge: "edge-a", Revision: 77},
		`{"seq":2,"time":"2026-06-01T09:30:00Z","action":"token.revoked","actor":{"kind":"admin"},"edge":"edge-a","revision":77}`},
	{"AuditEvent/admin", AuditEvent{Seq: 1, Time: created, Action: "user_created", Actor: AuditActor{Kind: "admin"}},
		`{"seq":1,"time":"2026-06-01T09:30:00Z","action":"user_created","actor":{"kind":"admin"}}`},
	{"AuditActor", AuditActor{Kind: "token", UserID: "u_1", IP: "192.0.2.7"}, `{"kind":"token","user_id":"u_1","ip":"192.0.2.7"}`},
}

// marshal encodes v as the server does (no HTML escaping), without the
// encoder's trailing newline.
func marshal(t *testing.T, v any) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatalf("encoding %T: %v", v, err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// TestGolden marshals a populated value of every shape and compares it to
// its golden JSON; then decodes the golden into a new value and encodes
// it again, so decoding loses nothing either.
func TestGolden(t *testing.T) {
	t.Parallel()
	for _, tc := range goldens {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := marshal(t, tc.v); got != tc.want {
				t.Errorf("JSON of %T changed:\n got %s\nwant %s", tc.v, got, tc.want)
			}
			back := reflect.New(reflect.TypeOf(tc.v))
			if err := json.Unmarshal([]byte(tc.want), back.Interface()); err != nil {
				t.Fatalf("decoding the golden: %v", err)
			}
			if got := marshal(t, back.Elem().Interface()); got != tc.want {
				t.Errorf("decoded and encoded again:\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestGoldenCoversEveryShape fails when an exported struct type of the
// package has no golden, so a new shape cannot join the contract unpinned.
func TestGoldenCoversEveryShape(t *testing.T) {
	t.Parallel()
	covered := map[string]bool{}
	for _, tc := range goldens {
		covered[reflect.TypeOf(tc.v).Name()] = true
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				ts := spec.(*ast.TypeSpec)
				if _, isStruct := ts.Type.(*ast.StructType); isStruct && ts.Name.IsExported() && !covered[ts.Name.Name] {
					t.Errorf("%s: type %s has no golden JSON", name, ts.Name.Name)
				}
			}
		}
	}
}

func TestFormatExpiration(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 9, 1, 2, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	if got, want := FormatExpiration(at), "2026-09-01 00:00:00 UTC"; got != want {
		t.Errorf("FormatExpiration = %q, want %q", got, want)
	}
}
