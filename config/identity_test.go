package config

import (
	"strings"
	"testing"
)

func TestIdentityProviders(t *testing.T) {
	t.Parallel()
	oidc := func(edit func(*IdentityProvider)) IdentityProvider {
		ip := IdentityProvider{Name: "corp", Type: ProviderOIDC, Issuer: "https://id.example.com", ClientID: "gh", ClientSecret: "{env.S}"}
		if edit != nil {
			edit(&ip)
		}
		return ip
	}
	github := func(edit func(*IdentityProvider)) IdentityProvider {
		ip := IdentityProvider{Name: "github", Type: ProviderGitHub, ClientID: "Iv1", ClientSecretFile: "/run/secret"}
		if edit != nil {
			edit(&ip)
		}
		return ip
	}
	off := false
	for _, tc := range []struct {
		name  string
		list  []IdentityProvider
		local *bool
		want  string // "" valid
	}{
		{"oidc", []IdentityProvider{oidc(nil)}, nil, ""},
		{"github", []IdentityProvider{github(nil)}, nil, ""},
		{"both, local login off", []IdentityProvider{oidc(nil), github(nil)}, &off, ""},
		{"local login off without providers", nil, &off, "nobody can sign in"},
		{"twice", []IdentityProvider{oidc(nil), oidc(nil)}, nil, "declared twice"},
		{"bad name", []IdentityProvider{oidc(func(p *IdentityProvider) { p.Name = "Corp/x" })}, nil, "the name must be"},
		{"unknown type", []IdentityProvider{oidc(func(p *IdentityProvider) { p.Type = "saml" })}, nil, `type "saml"`},
		{"no client id", []IdentityProvider{oidc(func(p *IdentityProvider) { p.ClientID = "" })}, nil, "client_id is required"},
		{"no secret", []IdentityProvider{oidc(func(p *IdentityProvider) { p.ClientSecret = "" })}, nil, "exactly one of client_secret"},
		{"two secrets", []IdentityProvider{oidc(func(p *IdentityProvider) { p.ClientSecretFile = "/x" })}, nil, "exactly one of client_secret"},
		{"relative issuer", []IdentityProvider{oidc(func(p *IdentityProvider) { p.Issuer = "id.example.com" })}, nil, "issuer"},
		{"issuer with credentials", []IdentityProvider{oidc(func(p *IdentityProvider) { p.Issuer = "https://u:p@id.example.com" })}, nil, "issuer"},
		{"bad redirect", []IdentityProvider{oidc(func(p *IdentityProvider) { p.RedirectURL = "/login/corp/callback" })}, nil, "redirect_url"},
		{"domain with @", []IdentityProvider{oidc(func(p *IdentityProvider) { p.AllowEmailDomains = []string{"@example.com"} })}, nil, "allow_email_domains"},
		{"unknown scope", []IdentityProvider{oidc(func(p *IdentityProvider) { p.Scopes = []string{"graph:read"} })}, nil, "graph:read"},
		{"unknown tier", []IdentityProvider{oidc(func(p *IdentityProvider) { p.Tier = "gold" })}, nil, `tier "gold"`},
		{"orgs on oidc", []IdentityProvider{oidc(func(p *IdentityProvider) { p.AllowOrgs = []string{"o"} })}, nil, "for github providers"},
		{"groups on github", []IdentityProvider{github(func(p *IdentityProvider) { p.AllowGroups = []string{"g"} })}, nil, "for oidc providers"},
		{"team without org", []IdentityProvider{github(func(p *IdentityProvider) { p.AllowTeams = []string{"maintainers"} })}, nil, "org/team-slug"},
		{"bad api url", []IdentityProvider{github(func(p *IdentityProvider) { p.APIURL = "api.github.com" })}, nil, "api_url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := Compile(Global{Scopes: []string{"wiki:read"}, Tiers: []Tier{{Name: "free", Rate: "1/1m"}},
				IdentityProviders: tc.list, LocalLogin: tc.local}, testChecks())
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			case tc.want == "":
				for _, ip := range p.IdentityProviders {
					if ip.Tier != "free" {
						t.Errorf("%s: tier %q, want the default tier", ip.Name, ip.Tier)
					}
					if ip.Type == ProviderGitHub && (ip.APIURL != DefaultGitHubAPIURL || ip.WebURL != DefaultGitHubWebURL) {
						t.Errorf("github defaults: %+v", ip)
					}
					if ip.Type == ProviderOIDC && ip.GroupsClaim != DefaultGroupsClaim {
						t.Errorf("oidc groups claim %q", ip.GroupsClaim)
					}
				}
				if p.LocalLoginOff != (tc.local != nil) {
					t.Errorf("LocalLoginOff = %v", p.LocalLoginOff)
				}
			}
		})
	}
}

func TestProviderLabel(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ip   IdentityProvider
		want string
	}{
		{IdentityProvider{Name: "github", Type: ProviderGitHub}, "GitHub"},
		{IdentityProvider{Name: "ghe", Type: ProviderGitHub}, "ghe"},
		{IdentityProvider{Name: "corp", Type: ProviderOIDC, Label: "Corp SSO"}, "Corp SSO"},
	} {
		if got := tc.ip.DisplayLabel(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.ip, got, tc.want)
		}
	}
}
