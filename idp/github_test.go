package idp_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/idp"
)

// fakeGitHub implements the few GitHub endpoints the provider calls: the
// OAuth web flow (authorize, access_token with PKCE) and the REST API's
// GET /user, /user/emails, /user/memberships/orgs/{org} and
// /orgs/{org}/teams/{team}/memberships/{user}. GitHub itself cannot be
// reached from the test machines; the bodies follow the shapes of
// GitHub's REST documentation.
type fakeGitHub struct {
	*httptest.Server
	clientID, secret string

	mu        sync.Mutex
	login     string
	id        int64
	emails    []map[string]any
	orgs      map[string]string // org -> membership state
	teams     map[string]string // org/team -> membership state
	codes     map[string]string // code -> code_challenge
	tokenSeen int
}

func startGitHub(t *testing.T) *fakeGitHub {
	f := &fakeGitHub{clientID: "Iv1.8a61f9b3a7aba766", secret: "gh-secret-value", codes: map[string]string{},
		orgs: map[string]string{}, teams: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login/oauth/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != f.clientID || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
			http.Error(w, "bad authorize request", http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		code := fmt.Sprintf("code-%d", len(f.codes)+1)
		f.codes[code] = q.Get("code_challenge")
		f.mu.Unlock()
		back, _ := url.Parse(q.Get("redirect_uri"))
		back.RawQuery = url.Values{"code": {code}, "state": {q.Get("state")}}.Encode()
		http.Redirect(w, r, back.String(), http.StatusFound)
	})
	mux.HandleFunc("POST /login/oauth/access_token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		f.mu.Lock()
		defer f.mu.Unlock()
		f.tokenSeen++
		challenge, ok := f.codes[r.PostForm.Get("code")]
		delete(f.codes, r.PostForm.Get("code"))
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.PostForm.Get("client_id") != f.clientID || r.PostForm.Get("client_secret") != f.secret:
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "incorrect_client_credentials"})
		case !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != challenge:
			// GitHub answers a bad code with 200 and an error body.
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "bad_verification_code",
				"error_description": "The code passed is incorrect or expired."})
		default:
			_ = json.NewEncoder(w).Encode(map[string]string{"access_token": "gho_16C7e42F292c6912E7710c838347Ae178B4a",
				"scope": "read:org,read:user,user:email", "token_type": "bearer"})
		}
	})
	api := func(pattern string, h func(w http.ResponseWriter, r *http.Request) any) {
		mux.HandleFunc("GET /api/v3"+pattern, func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer gho_16C7e42F292c6912E7710c838347Ae178B4a" {
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write([]byte(`{"message":"Requires authentication","documentation_url":"https://docs.github.com/rest"}`))
				return
			}
			f.mu.Lock()
			v := h(w, r)
			f.mu.Unlock()
			if v != nil {
				w.Header().Set("Content-Type", "application/json")
				_ = json.NewEncoder(w).Encode(v)
			}
		})
	}
	notFound := func(w http.ResponseWriter) any {
		w.WriteHeader(http.StatusNotFound)
		return map[string]string{"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}
	}
	api("/user", func(http.ResponseWriter, *http.Request) any {
		return map[string]any{"login": f.login, "id": f.id, "node_id": "MDQ6VXNlcjE=", "type": "User", "site_admin": false, "name": "monalisa octocat"}
	})
	api("/user/emails", func(http.ResponseWriter, *http.Request) any { return f.emails })
	api("/user/memberships/orgs/{org}", func(w http.ResponseWriter, r *http.Request) any {
		state, ok := f.orgs[r.PathValue("org")]
		if !ok {
			return notFound(w)
		}
		return map[string]any{"state": state, "role": "member", "organization": map[string]any{"login": r.PathValue("org")}}
	})
	api("/orgs/{org}/teams/{team}/memberships/{user}", func(w http.ResponseWriter, r *http.Request) any {
		state, ok := f.teams[r.PathValue("org")+"/"+r.PathValue("team")]
		if !ok || r.PathValue("user") != f.login {
			return notFound(w)
		}
		return map[string]any{"state": state, "role": "member", "url": "https://api.github.com/teams/1/memberships/" + f.login}
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeGitHub) person(login string, id int64, emails ...map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.login, f.id, f.emails = login, id, emails
}

func email(addr string, primary, verified bool) map[string]any {
	return map[string]any{"email": addr, "primary": primary, "verified": verified, "visibility": "public"}
}

func githubConfig(f *fakeGitHub) config.IdentityProvider {
	return config.IdentityProvider{
		Name: "corp", Type: config.ProviderGitHub, ClientID: f.clientID, ClientSecret: f.secret,
		APIURL: f.URL + "/api/v3", WebURL: f.URL,
	}
}

func TestGitHubSignIn(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		cfg    func(*config.IdentityProvider)
		setup  func(*fakeGitHub)
		status int
		reason string // "" for success
	}{
		{name: "anyone", status: http.StatusOK},
		{name: "member of an allowed org", cfg: func(c *config.IdentityProvider) { c.AllowOrgs = []string{"other", "octo-org"} },
			setup: func(f *fakeGitHub) { f.orgs["octo-org"] = "active" }, status: http.StatusOK},
		{name: "member of an allowed team", cfg: func(c *config.IdentityProvider) { c.AllowTeams = []string{"octo-org/maintainers"} },
			setup: func(f *fakeGitHub) { f.teams["octo-org/maintainers"] = "active" }, status: http.StatusOK},
		{name: "verified primary email at an allowed domain", cfg: func(c *config.IdentityProvider) { c.AllowEmailDomains = []string{"github.com"} },
			status: http.StatusOK},
		{name: "not in the org", cfg: func(c *config.IdentityProvider) { c.AllowOrgs = []string{"octo-org"} },
			status: http.StatusForbidden, reason: idp.ReasonOrg},
		{name: "org invitation still pending", cfg: func(c *config.IdentityProvider) { c.AllowOrgs = []string{"octo-org"} },
			setup: func(f *fakeGitHub) { f.orgs["octo-org"] = "pending" }, status: http.StatusForbidden, reason: idp.ReasonOrg},
		{name: "in another team", cfg: func(c *config.IdentityProvider) { c.AllowTeams = []string{"octo-org/maintainers"} },
			setup: func(f *fakeGitHub) { f.teams["octo-org/triage"] = "active" }, status: http.StatusForbidden, reason: idp.ReasonOrg},
		{name: "primary email unverified", cfg: func(c *config.IdentityProvider) { c.AllowEmailDomains = []string{"github.com"} },
			setup: func(f *fakeGitHub) {
				f.emails = []map[string]any{email("octocat@github.com", true, false), email("octo@other.example", false, true)}
			}, status: http.StatusForbidden, reason: idp.ReasonEmailUnverified},
		{name: "email at another domain", cfg: func(c *config.IdentityProvider) { c.AllowEmailDomains = []string{"example.com"} },
			status: http.StatusForbidden, reason: idp.ReasonEmailDomain},
		{name: "wrong client secret", cfg: func(c *config.IdentityProvider) { c.ClientSecret = "not-it" },
			status: http.StatusBadGateway, reason: idp.ReasonProviderError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := startGitHub(t)
			f.person("octocat", 583231, email("octocat@github.com", true, true))
			if tc.setup != nil {
				tc.setup(f)
			}
			cfg := githubConfig(f)
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			gh := newGatehouse(t, cfg)
			resp, body := newBrowser(t).follow(gh.URL + "/login/corp?next=/pat")
			rf := gh.lastRefusal()
			if resp.StatusCode != tc.status {
				t.Fatalf("got %d (refusal %+v), want %d\n%s", resp.StatusCode, rf, tc.status, body)
			}
			if tc.reason == "" {
				if body != "page /pat for octocat" {
					t.Fatalf("landed on %q", body)
				}
				u, err := gh.store.UserByIdentity("corp", "583231")
				if err != nil || u.Login != "octocat" {
					t.Fatalf("account by GitHub's numeric id: %+v, %v", u, err)
				}
				return
			}
			if rf == nil || rf.Reason != tc.reason {
				t.Fatalf("refusal %+v, want %s", rf, tc.reason)
			}
			if strings.Contains(body, f.secret) || strings.Contains(rf.Detail, f.secret) || strings.Contains(rf.Detail, "gho_") {
				t.Errorf("a secret reached the page or the log detail: %s / %s", body, rf.Detail)
			}
			if n := gh.users(t); n != 0 {
				t.Errorf("%d users after a refusal", n)
			}
		})
	}
}

// TestGitHubRenamedLogin: GitHub logins can change; the account is keyed
// by the numeric id, so a renamed person keeps their account.
func TestGitHubRenamedLogin(t *testing.T) {
	t.Parallel()
	f := startGitHub(t)
	gh := newGatehouse(t, githubConfig(f))
	f.person("octocat", 583231, email("octocat@github.com", true, true))
	if _, body := newBrowser(t).follow(gh.URL + "/login/corp"); body != "page /pat for octocat" {
		t.Fatalf("first: %q", body)
	}
	f.person("monalisa", 583231, email("octocat@github.com", true, true))
	if _, body := newBrowser(t).follow(gh.URL + "/login/corp"); body != "page /pat for octocat" {
		t.Fatalf("after the rename: %q", body)
	}
	// Someone else who takes the old login is a new account.
	f.person("octocat", 999, email("new@github.com", true, true))
	if _, body := newBrowser(t).follow(gh.URL + "/login/corp"); body != "page /pat for octocat-2" {
		t.Fatalf("the new holder of the login: %q", body)
	}
}
