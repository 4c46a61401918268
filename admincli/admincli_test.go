package admincli_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gatehouse/gatehouse/admincli"
	"github.com/gatehouse/gatehouse/api"
)

// fakeAdmin is an admin API that records the one request it gets and
// answers with a canned status and body.
type fakeAdmin struct {
	status int
	reply  string

	got      bool
	method   string
	uri      string
	body     []byte
	ctype    string
	requests int
}

func (f *fakeAdmin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.requests++
	f.got, f.method, f.uri = true, r.Method, r.RequestURI
	f.body, _ = io.ReadAll(r.Body)
	f.ctype = r.Header.Get("Content-Type")
	if f.status == 0 {
		f.status = http.StatusOK
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.status)
	io.WriteString(w, f.reply)
}

// run is the result of one command run against a fakeAdmin.
type run struct {
	stdout, stderr string
	err            error
	admin          *fakeAdmin
	opened, closed int32
}

// runCommand runs `caddy gatehouse <args>` with stdin, against an
// httptest admin server that answers status and reply.
func runCommand(t *testing.T, args []string, stdin string, status int, reply string) *run {
	t.Helper()
	res := &run{admin: &fakeAdmin{status: status, reply: reply}}
	srv := httptest.NewServer(res.admin)
	t.Cleanup(srv.Close)
	send := func(method, uri string, body io.Reader) (*http.Response, error) {
		req, err := http.NewRequest(method, srv.URL+uri, body)
		if err != nil {
			return nil, err
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		return srv.Client().Do(req)
	}
	open := func(*cobra.Command) (admincli.Target, error) {
		atomic.AddInt32(&res.opened, 1)
		return admincli.NewTarget(send, "through the test server", func() error {
			atomic.AddInt32(&res.closed, 1)
			return nil
		}), nil
	}
	root := &cobra.Command{Use: "gatehouse", SilenceErrors: true}
	admincli.AddCommands(root, open)
	var stdout, stderr bytes.Buffer
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	res.err = root.Execute()
	res.stdout, res.stderr = stdout.String(), stderr.String()
	return res
}

// TestCommands runs every command against a fake admin API and checks the
// request it makes and what it prints.
func TestCommands(t *testing.T) {
	t.Parallel()
	ann := `{"id":"usr_1","login":"ann","kind":"user","tier":"pro","scopes":["a","b"],"all_scopes":false,"created":"2026-03-04T05:06:07Z"}`
	tests := []struct {
		name    string
		args    []string
		stdin   string
		status  int    // of the answer; 0 is 200
		reply   string // the answer's body
		req     string // "METHOD URI" of the request; "" for none
		body    string // its JSON body, "" for none
		stdout  string
		stderr  string
		wantErr string
	}{
		{
			name:   "user add",
			args:   []string{"user", "add", "ann", "--tier", "pro", "--scopes", "a, b,a"},
			reply:  ann,
			req:    "POST /gatehouse/users",
			body:   `{"login":"ann","tier":"pro","scopes":["a","b"]}`,
			stderr: "created user ann (usr_1), tier pro\n",
		},
		{
			name:   "user add without scopes",
			args:   []string{"user", "add", "bot", "--scopes", "none"},
			reply:  `{"id":"usr_3","login":"bot","tier":"free"}`,
			req:    "POST /gatehouse/users",
			body:   `{"login":"bot","scopes":[]}`,
			stderr: "created user bot (usr_3), tier free\n",
		},
		{
			name:   "user add with defaults",
			args:   []string{"user", "add", "bob"},
			reply:  `{"id":"usr_2","login":"bob","tier":"free"}`,
			req:    "POST /gatehouse/users",
			body:   `{"login":"bob"}`,
			stderr: "created user bob (usr_2), tier free\n",
		},
		{
			name:  "user list",
			args:  []string{"user", "list"},
			reply: `[` + ann + `,{"id":"usr_2","login":"bob","kind":"agent","tier":"free","all_scopes":true,"disabled":true,"created":"2026-03-05T00:00:00Z"}]`,
			req:   "GET /gatehouse/users",
			stdout: "LOGIN  ID     KIND   TIER  STATUS    SCOPES  CREATED\n" +
				"ann    usr_1  user   pro   active    a,b     2026-03-04\n" +
				"bob    usr_2  agent  free  disabled  all     2026-03-05\n",
		},
		{
			name:   "user list --json",
			args:   []string{"user", "list", "--json"},
			reply:  `[{"id":"usr_1","login":"ann","created":"2026-03-04T05:06:07Z"}]`,
			req:    "GET /gatehouse/users",
			stdout: "[\n  {\n    \"id\": \"usr_1\",\n    \"login\": \"ann\",\n    \"kind\": \"\",\n    \"tier\": \"\",\n    \"scopes\": null,\n    \"all_scopes\": false,\n    \"disabled\": false,\n    \"password\": false,\n    \"totp\": false,\n    \"created\": \"2026-03-04T05:06:07Z\"\n  }\n]\n",
		},
		{
			name:   "user disable",
			args:   []string{"user", "disable", "ann"},
			reply:  ann,
			req:    "POST /gatehouse/users/ann/disable",
			body:   `{}`,
			stderr: "user ann disabled\n",
		},
		{
			name:   "user enable escapes the login",
			args:   []string{"user", "enable", "a/b c"},
			reply:  `{"login":"a/b c"}`,
			req:    "POST /gatehouse/users/a%2Fb%20c/enable",
			body:   `{}`,
			stderr: "user a/b c enabled\n",
		},
		{
			name:   "user set-tier",
			args:   []string{"user", "set-tier", "ann", "pro"},
			reply:  ann,
			req:    "POST /gatehouse/users/ann/tier",
			body:   `{"tier":"pro"}`,
			stderr: "user ann is now on tier pro\n",
		},
		{
			name:   "user add --admin",
			args:   []string{"user", "add", "root", "--admin"},
			reply:  `{"id":"usr_9","login":"root","tier":"free","admin":true}`,
			req:    "POST /gatehouse/users",
			body:   `{"login":"root","admin":true}`,
			stderr: "created user root (usr_9), tier free, administrator\n",
		},
		{
			name:   "user set-admin",
			args:   []string{"user", "set-admin", "ann"},
			reply:  `{"login":"ann","admin":true}`,
			req:    "POST /gatehouse/users/ann/admin",
			body:   `{"admin":true}`,
			stderr: "user ann is now an administrator\n",
		},
		{
			name:   "user set-admin --off",
			args:   []string{"user", "set-admin", "ann", "--off"},
			reply:  `{"login":"ann"}`,
			req:    "POST /gatehouse/users/ann/admin",
			body:   `{"admin":false}`,
			stderr: "user ann is no longer an administrator\n",
		},
		{
			name:    "user passwd refuses a short password before calling",
			args:    []string{"user", "passwd", "ann", "--password-stdin"},
			stdin:   "short\n",
			wantErr: "password: must be at least 8 characters",
		},
		{
			name:    "user passwd wants a terminal or --password-stdin",
			args:    []string{"user", "passwd", "ann"},
			wantErr: "standard input is not a terminal: pipe the password in with --password-stdin",
		},
		{
			name:   "user totp enable",
			args:   []string{"user", "totp", "enable", "ann"},
			reply:  `{"user":` + ann + `,"otpauth_url":"otpauth://totp/gatehouse:ann?secret=S"}`,
			req:    "POST /gatehouse/users/ann/totp",
			body:   `{}`,
			stdout: "otpauth://totp/gatehouse:ann?secret=S\n",
			stderr: "TOTP enabled for ann; the URL above will not be shown again\n",
		},
		{
			name:   "user totp disable",
			args:   []string{"user", "totp", "disable", "ann"},
			reply:  `{"user":` + ann + `}`,
			req:    "DELETE /gatehouse/users/ann/totp",
			stderr: "TOTP disabled for ann\n",
		},
		{
			name:   "user link",
			args:   []string{"user", "link", "ann", "github", "583231"},
			reply:  `{"user":"ann","provider":"github","subject":"583231","linked":"2026-11-23T10:00:00Z"}`,
			req:    "PUT /gatehouse/identities",
			body:   `{"user":"ann","provider":"github","subject":"583231"}`,
			stderr: "ann signs in through github as subject 583231\n",
		},
		{
			name:   "user unlink",
			args:   []string{"user", "unlink", "github", "583231"},
			reply:  `{"unlinked":true}`,
			req:    "DELETE /gatehouse/identities",
			body:   `{"provider":"github","subject":"583231"}`,
			stderr: "github subject 583231 is no longer linked\n",
		},
		{
			name:   "user links",
			args:   []string{"user", "links", "ann"},
			reply:  `[{"user":"ann","provider":"github","subject":"583231","linked":"2026-11-23T10:00:00Z"}]`,
			req:    "GET /gatehouse/identities?user=ann",
			stdout: "USER  PROVIDER  SUBJECT  LINKED\nann   github    583231   2026-11-23 10:00 UTC\n",
		},
		{
			name:   "member set, new",
			args:   []string{"member", "set", "ann", "project", "atlas", "edit"},
			reply:  `{"user":"ann","resource":"project:atlas","role":"edit","previous":""}`,
			req:    "PUT /gatehouse/members",
			body:   `{"user":"ann","type":"project","name":"atlas","role":"edit"}`,
			stderr: "ann is now edit on project:atlas\n",
		},
		{
			name:   "member set, unchanged",
			args:   []string{"member", "set", "ann", "project", "atlas", "edit"},
			reply:  `{"user":"ann","resource":"project:atlas","role":"edit","previous":"edit"}`,
			req:    "PUT /gatehouse/members",
			body:   `{"user":"ann","type":"project","name":"atlas","role":"edit"}`,
			stderr: "ann already was edit on project:atlas; nothing changed\n",
		},
		{
			name:   "member set, replaced",
			args:   []string{"member", "set", "ann", "project", "atlas", "edit"},
			reply:  `{"user":"ann","resource":"project:atlas","role":"edit","previous":"read"}`,
			req:    "PUT /gatehouse/members",
			body:   `{"user":"ann","type":"project","name":"atlas","role":"edit"}`,
			stderr: "ann is now edit on project:atlas (was read)\n",
		},
		{
			name:   "member remove",
			args:   []string{"member", "remove", "ann", "project", "atlas"},
			reply:  `{"user":"ann","resource":"project:atlas","role":"","previous":"read"}`,
			req:    "DELETE /gatehouse/members",
			body:   `{"user":"ann","type":"project","name":"atlas"}`,
			stderr: "ann no longer has a role on project:atlas (was read)\n",
		},
		{
			name:  "member list of one user",
			args:  []string{"member", "list", "ann b"},
			reply: `[{"user":"ann","type":"project","name":"atlas","role":"edit","declared":true},{"user":"ann","type":"team","name":"x","role":"lead"}]`,
			req:   "GET /gatehouse/members?user=ann+b",
			stdout: "USER  TYPE     NAME   ROLE\n" +
				"ann   project  atlas  edit\n" +
				"ann   team     x      lead (not declared: grants nothing)\n",
		},
		{
			name:   "member list --json",
			args:   []string{"member", "list", "--json"},
			reply:  `[{"user":"ann","type":"project","name":"atlas","role":"edit","resource":"project:atlas","declared":true}]`,
			req:    "GET /gatehouse/members",
			stdout: "[\n  {\n    \"user\": \"ann\",\n    \"type\": \"project\",\n    \"name\": \"atlas\",\n    \"role\": \"edit\",\n    \"resource\": \"project:atlas\",\n    \"declared\": true\n  }\n]\n",
		},
		{
			name:  "session list",
			args:  []string{"session", "list", "--user", "ann"},
			reply: `[{"id":"s1","user":"ann","kind":"browser","created":"2026-03-04T05:06:07Z","expires":"2026-03-05T05:06:07Z","last_seen":"2026-03-04T06:00:00Z","ip":"192.0.2.1","status":"active"},{"id":"s2","user":"ann","kind":"cli","created":"2026-03-04T05:06:07Z","expires":"2026-03-05T05:06:07Z","last_seen":null,"status":"revoked"}]`,
			req:   "GET /gatehouse/sessions?user=ann",
			stdout: "ID  USER  KIND     CREATED           EXPIRES           LAST SEEN         IP         STATUS\n" +
				"s1  ann   browser  2026-03-04 05:06  2026-03-05 05:06  2026-03-04 06:00  192.0.2.1  active\n" +
				"s2  ann   cli      2026-03-04 05:06  2026-03-05 05:06  never                        revoked\n",
		},
		{
			name:   "session list --json",
			args:   []string{"session", "list", "--json"},
			reply:  `[]`,
			req:    "GET /gatehouse/sessions",
			stdout: "[]\n",
		},
		{
			name:   "session revoke one",
			args:   []string{"session", "revoke", "s1"},
			reply:  `{"id":"s1","user":"ann"}`,
			req:    "DELETE /gatehouse/sessions/s1",
			stderr: "revoked session s1 of ann\n",
		},
		{
			name:   "session revoke all of a user",
			args:   []string{"session", "revoke", "--user", "ann", "--all"},
			reply:  `{"user":"ann","revoked":3}`,
			req:    "DELETE /gatehouse/users/ann/sessions",
			stderr: "revoked 3 session(s) of ann\n",
		},
		{
			name:    "session revoke wants an id or --user --all",
			args:    []string{"session", "revoke", "--user", "ann"},
			wantErr: "give a session id, or --user <login> --all",
		},
		{
			name:    "session revoke not both",
			args:    []string{"session", "revoke", "s1", "--user", "ann", "--all"},
			wantErr: "give a session id, or --user <login> --all",
		},
		{
			name:   "token create",
			args:   []string{"token", "create", "--user", "ann", "--scopes", "a,b", "--expires-days", "7", "--name", "ci", "--resources", "project:atlas=read"},
			reply:  `{"token":"gth_secret","info":{"id":"tok_1","user":"ann","name":"ci","scopes":["a","b"],"expires":"2026-03-11T05:06:07Z"}}`,
			req:    "POST /gatehouse/tokens",
			body:   `{"user":"ann","name":"ci","scopes":["a","b"],"expires_days":7,"resources":{"project:atlas":"read"}}`,
			stdout: "gth_secret\n",
			stderr: "created token tok_1 (ci) for ann: scopes a b, expires 2026-03-11T05:06:07Z; it will not be shown again\n",
		},
		{
			name:   "token create without expiry",
			args:   []string{"token", "create", "--user", "ann", "--scopes", "a", "--no-expiry", "--name", "forever", "--all-resources"},
			reply:  `{"token":"gth_secret","info":{"id":"tok_2","user":"ann","name":"forever","scopes":["a"],"expires":null}}`,
			req:    "POST /gatehouse/tokens",
			body:   `{"user":"ann","name":"forever","scopes":["a"],"expires_days":0,"no_expiry":true}`,
			stdout: "gth_secret\n",
			stderr: "created token tok_2 (forever) for ann: scopes a, expires never; it will not be shown again\n",
		},
		{
			name:    "token create wants --user",
			args:    []string{"token", "create", "--scopes", "a"},
			wantErr: "--user is required",
		},
		{
			name:    "token create: resources or all, not both",
			args:    []string{"token", "create", "--user", "ann", "--resources", "project:atlas=read", "--all-resources"},
			wantErr: "give --resources or --all-resources, not both",
		},
		{
			name:    "token create: a bad resource cap",
			args:    []string{"token", "create", "--user", "ann", "--resources", "atlas"},
			wantErr: `--resources: resource cap "atlas": want type:name=role`,
		},
		{
			name:  "token list",
			args:  []string{"token", "list", "--user", "ann"},
			reply: `[{"id":"tok_1","user":"ann","name":"ci","hint":"gth_ab****","scopes":["a","b"],"created":"2026-03-04T05:06:07Z","expires":"2026-03-11T05:06:07Z","last_used":null,"status":"active"}]`,
			req:   "GET /gatehouse/tokens?user=ann",
			stdout: "ID     USER  NAME  HINT        SCOPES  CREATED     EXPIRES           LAST USED  STATUS\n" +
				"tok_1  ann   ci    gth_ab****  a,b     2026-03-04  2026-03-11 05:06  never      active\n",
		},
		{
			name:   "token list --json",
			args:   []string{"token", "list", "--json"},
			reply:  `[]`,
			req:    "GET /gatehouse/tokens",
			stdout: "[]\n",
		},
		{
			name:   "token revoke",
			args:   []string{"token", "revoke", "tok_1"},
			reply:  `{"id":"tok_1","user":"ann","name":"ci"}`,
			req:    "DELETE /gatehouse/tokens/tok_1",
			stderr: "revoked token tok_1 (ci) of ann\n",
		},
		{
			name:   "store check, sound",
			args:   []string{"store", "check"},
			reply:  `{"problems":[],"store":"/data/s.db"}`,
			req:    "GET /gatehouse/store/check",
			stderr: "/data/s.db: ok\n",
		},
		{
			name:    "store check, problems",
			args:    []string{"store", "check"},
			reply:   `{"problems":["token tok_1: no owner","user usr_9: dangling index"],"store":"/data/s.db"}`,
			req:     "GET /gatehouse/store/check",
			stdout:  "token tok_1: no owner\nuser usr_9: dangling index\n",
			wantErr: "/data/s.db: 2 problems",
		},
		{
			name:   "store status, bbolt",
			args:   []string{"store", "status"},
			reply:  `{"store":"/data/s.db","engine":"bbolt"}`,
			req:    "GET /gatehouse/status",
			stdout: "engine  bbolt\nstore   /data/s.db\n",
		},
		{
			name:  "store status, fleet",
			args:  []string{"store", "status"},
			reply: `{"store":"/data/m.db","engine":"etcd","fleet":{"edge_id":"a","endpoints":["http://e1:2379"],"prefix":"/gatehouse/","applied_revision":41,"known_revision":44,"staleness_ms":1500,"stale":false,"resyncs":1,"conflicts":0,"outbox":2,"edges":[{"id":"a","applied_revision":41,"started":"2026-03-04T05:00:00Z","updated":"2026-03-04T05:06:07Z"}]}}`,
			req:   "GET /gatehouse/status",
			stdout: "engine            etcd\nedge              a\nendpoints         [http://e1:2379]\nprefix            /gatehouse/\nmirror            /data/m.db\n" +
				"applied revision  41\nknown revision    44\nstaleness         1.5s\nresyncs           1\nconflicts         0\noutbox            2\n" +
				"EDGE  VERSION  APPLIED  STARTED               UPDATED\n" +
				"a              41       2026-03-04T05:00:00Z  2026-03-04T05:06:07Z\n",
		},
		{
			name:   "store rotate-key",
			args:   []string{"store", "rotate-key"},
			reply:  `{"key_id":"key_2"}`,
			req:    "POST /gatehouse/store/rotate-key",
			stderr: "new session signing key key_2; the old keys are deleted, so browsers log in again\n",
		},
		{
			name:   "store rotate-key --assertion",
			args:   []string{"store", "rotate-key", "--assertion", "--alg", "ES256", "--overlap", "2h"},
			reply:  `{"key_id":"ak_2"}`,
			req:    "POST /gatehouse/store/rotate-key/assertion",
			body:   `{"alg":"ES256","overlap":"2h"}`,
			stderr: "new assertion signing key ak_2; the old one stays published for the overlap\n",
		},
		{
			name:    "store rotate-key --alg without --assertion",
			args:    []string{"store", "rotate-key", "--alg", "ES256"},
			wantErr: "--alg goes with --assertion",
		},
		{
			name:  "keys",
			args:  []string{"keys"},
			reply: `[{"key_id":"ak_1","alg":"EdDSA","created_at":"2026-03-04T05:00:00Z","retired_at":"2026-03-05T05:00:00Z","publish_until":"2026-03-06T05:00:00Z","published":true},{"key_id":"ak_2","alg":"EdDSA","created_at":"2026-03-05T05:00:00Z","published":true}]`,
			req:   "GET /gatehouse/keys",
			stdout: "KEY ID  ALG    CREATED               STATE\n" +
				"ak_1    EdDSA  2026-03-04T05:00:00Z  retired, published until 2026-03-06T05:00:00Z\n" +
				"ak_2    EdDSA  2026-03-05T05:00:00Z  current\n",
		},
		{
			name:  "audit",
			args:  []string{"audit", "--user", "ann", "--limit", "5"},
			reply: `[{"seq":2,"time":"2026-03-04T05:06:07Z","action":"token.created","actor":{"kind":"user","user_id":"usr_1","ip":"192.0.2.1"},"user_id":"usr_1","token_id":"tok_1"},{"seq":1,"time":"2026-03-04T05:00:00Z","action":"user.created","actor":{"kind":"admin"},"user_id":"usr_1","detail":"tier pro"}]`,
			req:   "GET /gatehouse/audit?limit=5&user=ann",
			stdout: "TIME                  ACTION         ACTOR       USER   TOKEN  IP         DETAIL\n" +
				"2026-03-04T05:06:07Z  token.created  user:usr_1  usr_1  tok_1  192.0.2.1  \n" +
				"2026-03-04T05:00:00Z  user.created   admin       usr_1                    tier pro\n",
		},
		{
			name:   "audit --json, default limit",
			args:   []string{"audit", "--json"},
			reply:  `[]`,
			req:    "GET /gatehouse/audit?limit=50",
			stdout: "[]\n",
		},
		{
			name:  "status",
			args:  []string{"status"},
			reply: `{"store":"/data/s.db","users":2,"tokens":5,"token_prefix":"gth_"}`,
			req:   "GET /gatehouse/status",
			stdout: "store         /data/s.db\n" +
				"via           through the test server\n" +
				"users         2\n" +
				"tokens        5\n" +
				"token prefix  gth_\n",
		},
		{
			name:    "an error answer's message is the error",
			args:    []string{"user", "disable", "zed"},
			status:  http.StatusNotFound,
			reply:   `{"error":"not_found","message":"update user zed: not found"}`,
			req:     "POST /gatehouse/users/zed/disable",
			body:    `{}`,
			wantErr: "update user zed: not found",
		},
		{
			name:    "an error answer without a message",
			args:    []string{"token", "list"},
			status:  http.StatusBadGateway,
			reply:   `bad gateway`,
			req:     "GET /gatehouse/tokens",
			wantErr: "GET /gatehouse/tokens: 502 Bad Gateway",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := runCommand(t, tt.args, tt.stdin, tt.status, tt.reply)
			a := res.admin
			switch {
			case tt.wantErr == "" && res.err != nil:
				t.Fatalf("error %v", res.err)
			case tt.wantErr != "" && (res.err == nil || res.err.Error() != tt.wantErr):
				t.Fatalf("error %v, want %q", res.err, tt.wantErr)
			}
			if got := a.method + " " + a.uri; tt.req == "" && a.got || tt.req != "" && got != tt.req {
				t.Errorf("request %q, want %q", strings.TrimSpace(got), tt.req)
			}
			if string(a.body) != tt.body {
				t.Errorf("request body %s, want %s", a.body, tt.body)
			}
			if tt.body != "" && a.ctype != "application/json" {
				t.Errorf("request Content-Type %q, want application/json", a.ctype)
			}
			if a.requests > 1 {
				t.Errorf("%d requests, want at most 1", a.requests)
			}
			if res.stdout != tt.stdout {
				t.Errorf("stdout:\n%s\nwant:\n%s", res.stdout, tt.stdout)
			}
			if res.stderr != tt.stderr {
				t.Errorf("stderr:\n%s\nwant:\n%s", res.stderr, tt.stderr)
			}
			if res.opened != res.closed {
				t.Errorf("target opened %d times, closed %d", res.opened, res.closed)
			}
		})
	}
}

// TestPasswdSendsOnlyAHash checks that `user passwd` hashes the password
// read from stdin and sends the hash alone.
func TestPasswdSendsOnlyAHash(t *testing.T) {
	t.Parallel()
	const pw = "correct horse battery"
	res := runCommand(t, []string{"user", "passwd", "ann", "--password-stdin"}, pw+"\r\n", 0,
		`{"user":{"login":"ann"},"sessions_revoked":2}`)
	if res.err != nil {
		t.Fatal(res.err)
	}
	if got := res.admin.method + " " + res.admin.uri; got != "POST /gatehouse/users/ann/password" {
		t.Errorf("request %q", got)
	}
	var req api.SetPasswordRequest
	if err := json.Unmarshal(res.admin.body, &req); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(req.PasswordHash, "$argon2id$") || bytes.Contains(res.admin.body, []byte(pw)) {
		t.Errorf("request body %s, want an argon2id hash and no password", res.admin.body)
	}
	if want := "password set for ann; 2 session(s) ended\n"; res.stderr != want {
		t.Errorf("stderr %q, want %q", res.stderr, want)
	}
}

// TestTokenCreateNamesUnnamedTokens checks the default name of a token
// created without --name.
func TestTokenCreateNamesUnnamedTokens(t *testing.T) {
	t.Parallel()
	res := runCommand(t, []string{"token", "create", "--user", "ann", "--scopes", "a", "--expires-days", "1"}, "", 0,
		`{"token":"gth_x","info":{"id":"tok_1","user":"ann","name":"n","scopes":["a"]}}`)
	if res.err != nil {
		t.Fatal(res.err)
	}
	var req api.CreateTokenRequest
	if err := json.Unmarshal(res.admin.body, &req); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(req.Name, "cli-") || len(req.Name) != len("cli-20060102-150405") {
		t.Errorf("name %q, want cli-<yyyymmdd-hhmmss>", req.Name)
	}
}

// TestBackup checks that `store backup` streams the answer into a new
// file, and leaves no file behind when the server refuses.
func TestBackup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		status   int
		reply    string
		existing bool
		wantErr  string
		wantFile string // "" for no file afterwards
	}{
		{name: "written", reply: "bolt bytes", wantFile: "bolt bytes"},
		{name: "refused", status: http.StatusServiceUnavailable, reply: `{"error":"server_error","message":"store busy"}`, wantErr: "store busy"},
		{name: "existing file", existing: true, wantErr: "backup: open %s: file exists", wantFile: "old"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "backup.db")
			if tt.existing {
				if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			res := runCommand(t, []string{"store", "backup", path}, "", tt.status, tt.reply)
			wantErr := strings.ReplaceAll(tt.wantErr, "%s", path)
			switch {
			case wantErr == "" && res.err != nil:
				t.Fatal(res.err)
			case wantErr != "" && (res.err == nil || res.err.Error() != wantErr):
				t.Fatalf("error %v, want %q", res.err, wantErr)
			}
			if tt.existing {
				if res.admin.got {
					t.Error("called the server although the file exists")
				}
			} else if got := res.admin.method + " " + res.admin.uri + " " + string(res.admin.body); got != "POST /gatehouse/store/backup {}" {
				t.Errorf("request %q", got)
			}
			raw, err := os.ReadFile(path)
			switch {
			case tt.wantFile == "" && !errors.Is(err, os.ErrNotExist):
				t.Errorf("file left behind (%v)", err)
			case tt.wantFile != "" && string(raw) != tt.wantFile:
				t.Errorf("file holds %q (%v), want %q", raw, err, tt.wantFile)
			}
			if tt.wantFile != "" && !tt.existing {
				if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
					t.Errorf("file mode %v (%v), want 0600", fi.Mode(), err)
				}
				if want := "backed up the store to " + path + "\n"; res.stderr != want {
					t.Errorf("stderr %q, want %q", res.stderr, want)
				}
			}
		})
	}
}

// TestOpenError checks that a command reports the Opener's error and
// makes no request.
func TestOpenError(t *testing.T) {
	t.Parallel()
	root := &cobra.Command{Use: "gatehouse", SilenceErrors: true}
	want := errors.New("open store /s.db: locked")
	admincli.AddCommands(root, func(*cobra.Command) (admincli.Target, error) { return nil, want })
	var stderr bytes.Buffer
	root.SetOut(io.Discard)
	root.SetErr(&stderr)
	root.SetArgs([]string{"status"})
	if err := root.Execute(); !errors.Is(err, want) {
		t.Fatalf("error %v, want %v", err, want)
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr %q, want nothing (no usage on an operational error)", stderr.String())
	}
}

// TestTree pins the command tree: every command path and its flags.
func TestTree(t *testing.T) {
	t.Parallel()
	root := &cobra.Command{Use: "gatehouse"}
	admincli.AddCommands(root, nil)
	var got []string
	var walk func(c *cobra.Command, path string)
	walk = func(c *cobra.Command, path string) {
		for _, sub := range c.Commands() {
			p := strings.TrimSpace(path + " " + sub.Name())
			var flags []string
			sub.LocalFlags().VisitAll(func(f *pflag.Flag) { flags = append(flags, "--"+f.Name) })
			got = append(got, strings.TrimSpace(p+" "+strings.Join(flags, " ")))
			walk(sub, p)
		}
	}
	walk(root, "")
	want := []string{
		"audit --json --limit --user",
		"keys --json",
		"member",
		"member list --json",
		"member remove",
		"member set",
		"session",
		"session list --json --user",
		"session revoke --all --user",
		"status",
		"store",
		"store backup",
		"store check",
		"store rotate-key --alg --assertion --overlap",
		"store status --json",
		"token",
		"token create --all-resources --expires-days --name --no-expiry --resources --scopes --user",
		"token list --json --user",
		"token revoke",
		"user",
		"user add --admin --scopes --tier",
		"user disable",
		"user enable",
		"user link",
		"user links --json",
		"user list --json",
		"user passwd --password-stdin",
		"user set-admin --off",
		"user set-tier",
		"user totp",
		"user totp disable",
		"user totp enable",
		"user unlink",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("tree:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
