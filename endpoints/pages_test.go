package endpoints

import (
	"bytes"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/decision"
	"github.com/gatehouse/gatehouse/i18n"
	"github.com/gatehouse/gatehouse/service"
)

func TestSafeNext(t *testing.T) {
	s := defaultTestSite(t)
	for next, want := range map[string]string{
		"":                              "/pat",
		"/api/x?y=1":                    "/api/x?y=1",
		"/device?user_code=WDJB-MJHT":   "/device?user_code=WDJB-MJHT",
		"https://evil.example/":         "/pat",
		"//evil.example":                "/pat",
		"/\\evil.example":               "/pat",
		"///evil.example":               "/pat",
		"/%2F%2Fevil.example":           "/%2F%2Fevil.example", // a path, not a host
		"javascript:alert(1)":           "/pat",
		"/x\r\nLocation: http://evil/":  "/pat",
		"/x\x00":                        "/pat",
		"/login?next=/pat":              "/pat",
		"/LOGOUT":                       "/pat",
		"relative":                      "/pat",
		"/" + strings.Repeat("a", 3000): "/pat",
	} {
		if got := s.safeNext(next); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
	}
}

// TestPagesRender renders every page with representative data in every
// language: a template error would otherwise surface as a 500 at run time.
// testTokenForm exercises every branch of the shared token fields.
var testTokenForm = tokenForm{
	Resources:     []resourceRow{{resourceChoice: resourceChoice{Resource: "project:atlas", Type: "project", Name: "atlas", Role: "edit", Roles: []string{"read", "edit"}}, Selected: "read"}},
	SomeResources: true,
	Scopes:        []scopeChoice{{Name: "wiki:read", Checked: true}},
	MaxDays:       365, ExpiresDays: 90, Name: "laptop", NameField: "name",
}

var testConsole = consoleData{Base: "/gatehouse/admin", Section: "users", Notice: msg("console.done_tier"), Error: msg("console.err_action"), Detail: "why"}

func TestPagesRender(t *testing.T) {
	s := defaultTestSite(t)
	u := &authstore.User{ID: "usr_x", Login: "alice"}
	id := &decision.Identity{Credential: decision.CredentialSession, User: u, Browser: true, Scopes: []string{"wiki:read"}}
	exp := time.Now().Add(time.Hour)
	datas := map[string]any{
		"login": loginData{Next: "/pat", Login: "alice", Error: msg("common.throttled", 3), Local: true,
			Providers: []providerButton{{Label: "GitHub", URL: "/login/github"}}},
		"signin_refused": refusalData{Error: msg("idp.email_domain", "corp"), Retry: "/login"},
		"pat": &patPageData{
			Tokens: []api.TokenInfo{
				{ID: "tok_1", Name: "n", Hint: "qat_abcd****", Scopes: []string{"wiki:read"}, Created: time.Now(), Expires: &exp, LastUsed: &exp, LastUsedIP: "192.0.2.1", Status: "active", AllResources: true},
				{ID: "tok_2", Name: "m", Hint: "qat_efgh****", Scopes: []string{"wiki:read"}, Resources: map[string]string{"project:atlas": "read"}, Created: time.Now(), Status: "revoked"},
			},
			tokenForm: testTokenForm,
			NewToken:  "qat_secret", NewTokenName: "n", Hidden: 2,
			Notice: msg("pat.revoked"), Error: msg("pat.err_expires", 365), ErrorDetail: "detail",
		},
		"device": &devicePageData{tokenForm: testTokenForm, UserCode: "WDJB-MJHT", Confirm: true, ClientID: "cli",
			IP: "192.0.2.1", UserAgent: "curl", Requested: time.Now(), NotHeld: "graph:read", Error: msg("device.err_action")},
		"setup":   setupData{Login: "root", MinPassword: 8, Error: msg("setup.err_mismatch")},
		"message": messageData{Message: "setup.done", Link: "/login", LinkText: "setup.sign_in"},
		"account": &securityData{MinPassword: 8, HasPassword: true, RecoveryCodes: []string{"aaaa-bbbb-cccc-dddd"},
			Passkeys: []authstore.Passkey{{ID: "x", Name: "laptop", CreatedAt: time.Now()}, {ID: "y", Name: "key", CreatedAt: time.Now(), LastUsedAt: time.Now()}},
			Enrol:    enrolment("otpauth://totp/x:alice?secret=JBSWY3DPEHPK3PXP&issuer=x"), Notice: msg("account.totp_enabled"), Error: msg("account.err_code")},
		"sessions": &sessionsData{Current: "ses_1", Sessions: []api.SessionInfo{
			{ID: "ses_1", Kind: "browser", Created: time.Now(), LastSeen: &exp, IP: "192.0.2.1", LastSeenIP: "192.0.2.2", UserAgent: "Chrome", Status: "active"},
			{ID: "ses_2", Kind: "cli", Created: time.Now(), Status: "revoked"}}, Notice: msg("sessions.ended", 2)},
		"login_passkey": passkeyStepData{Options: `{"publicKey":{"challenge":"x"}}`, Next: "/pat"},
		"set_password":  setPasswordData{MinPassword: 8, Error: msg("setpw.err_link")},
		"console_users": &consoleUsersData{consoleData: testConsole, Users: []userRow{{UserInfo: api.UserInfo{Login: "alice", Kind: "user", Tier: "free", Admin: true, Password: true, TOTP: true}, LastLogin: &exp}, {UserInfo: api.UserInfo{Login: "bot", Kind: "agent", Disabled: true}}}, Tiers: []string{"free"}, DefaultTier: "free", Created: &createdUser{Login: "bob", Link: "http://x/#u=bob", Expires: exp}},
		"console_user": &consoleUserData{consoleData: testConsole, User: api.UserInfo{Login: "alice", Kind: "user", TOTP: true, Password: true},
			Tiers: []string{"free"}, Scopes: []scopeChoice{{Name: "wiki:read", Checked: true}}, Members: []api.Membership{{User: "alice", Type: "project", Name: "atlas", Role: "edit", Resource: "project:atlas"}},
			Tokens: []api.TokenInfo{{ID: "tok_1", User: "alice", Status: "active", Created: time.Now()}}, Sessions: []api.SessionInfo{{ID: "ses_1", User: "alice", Status: "expired"}}, Link: &createdUser{Link: "l", Expires: exp}},
		"console_tokens":   &consoleListData{consoleData: testConsole, Status: "active", Tokens: []api.TokenInfo{{ID: "tok_1", User: "alice", Status: "revoked"}}},
		"console_sessions": &consoleListData{consoleData: consoleData{Base: "/gatehouse/admin", Section: "sessions"}, Status: "all", Kind: "cli", Sessions: []api.SessionInfo{{ID: "ses_1", User: "alice", Kind: "cli", Status: "active"}}},
		"console_members":  &consoleMembersData{consoleData: consoleData{Base: "/gatehouse/admin", Section: "members"}, Members: []api.Membership{{User: "alice", Type: "project", Name: "atlas", Role: "x"}}},
		"console_audit":    &consoleAuditData{consoleData: testConsole, Events: []service.AuditLine{{AuditEvent: api.AuditEvent{Seq: 3, Action: "login", Actor: api.AuditActor{Kind: "user", IP: "192.0.2.1"}}, UserLogin: "alice", ActorLogin: "alice"}}, Next: "/gatehouse/admin/audit?before=3"},
	}
	for name := range pages {
		data, ok := datas[name]
		if !ok {
			t.Errorf("no test data for page %s", name)
			continue
		}
		for _, lang := range i18n.Langs() {
			r := httptest.NewRequest("GET", "/x?lang="+lang.Code, nil)
			w := httptest.NewRecorder()
			if err := s.render(w, r, id, page{name: name, title: "login.title", data: data}); err != nil || w.Code != 200 {
				t.Fatalf("%s/%s: %v %d %s", name, lang.Code, err, w.Code, w.Body)
			}
			body := w.Body.String()
			for _, leaked := range []string{"login.", "pat.", "setup.", "common.", "layout.", "device.", "account.", "sessions.", "console.", "setpw.", "idp.", "%"} {
				// An id is a prefix and a lower-case name ("account.title");
				// "your account. Then" is a sentence.
				if regexp.MustCompile(regexp.QuoteMeta(leaked) + `[a-z!]`).MatchString(stripAttrs(body)) {
					t.Errorf("%s/%s shows an untranslated id or bad format (%s)", name, lang.Code, leaked)
				}
			}
			if !strings.Contains(body, `lang="`+lang.HTMLLang+`"`) {
				t.Errorf("%s/%s: html lang", name, lang.Code)
			}
		}
	}
}

// stripAttrs drops what is inside tags and the inline style and script,
// leaving the text a person reads.
func stripAttrs(html string) string {
	html = regexp.MustCompile(`(?s)<(style|script)[^>]*>.*?</(style|script)>`).ReplaceAllString(html, "")
	var b bytes.Buffer
	in := false
	for _, c := range html {
		switch {
		case c == '<':
			in = true
		case c == '>':
			in = false
		case !in:
			b.WriteRune(c)
		}
	}
	return b.String()
}

func TestEndpointsRegistered(t *testing.T) {
	names := Names()
	for _, want := range []string{"login", "logout", "session", "refresh", "pat", "pat_api", "pat_api_token", "setup"} {
		if !slices.Contains(names, want) {
			t.Errorf("endpoint %s is not registered", want)
		}
	}
}
