package config

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Identity provider kinds.
const (
	ProviderOIDC   = "oidc"
	ProviderGitHub = "github"
)

// Defaults of an identity provider.
const (
	DefaultGroupsClaim  = "groups"
	DefaultGitHubAPIURL = "https://api.github.com"
	DefaultGitHubWebURL = "https://github.com"
)

// IdentityProvider is an external identity provider people sign in with
// (`identity_provider <name> oidc|github { … }`). The client secret is
// kept as the operator wrote it (an `{env.*}` placeholder, typically), and
// resolved only when the provider is built, so that `caddy adapt` prints
// no more than the Caddyfile holds.
type IdentityProvider struct {
	// Name names the provider in paths (/login/<name>), links and logs.
	Name string `json:"name"`
	// Type is "oidc" or "github".
	Type string `json:"type"`
	// Label is the button's text after "Sign in with". Default: the name
	// ("GitHub" for a github provider named github).
	Label string `json:"label,omitempty"`

	// Issuer is the OpenID Connect issuer; discovery reads
	// <issuer>/.well-known/openid-configuration. oidc only.
	Issuer string `json:"issuer,omitempty"`
	// ClientID is the OAuth client id registered at the provider.
	ClientID string `json:"client_id"`
	// ClientSecret is the client secret, usually `{env.NAME}`.
	ClientSecret string `json:"client_secret,omitempty"`
	// ClientSecretFile is a file holding the client secret instead.
	ClientSecretFile string `json:"client_secret_file,omitempty"`
	// RedirectURL is the absolute callback URL registered at the
	// provider. Default: the request's scheme and host with the callback
	// path (/login/<name>/callback).
	RedirectURL string `json:"redirect_url,omitempty"`

	// AllowEmailDomains admits only people whose verified email is at
	// one of these domains. Empty admits any (or no) email.
	AllowEmailDomains []string `json:"allow_email_domains,omitempty"`
	// AllowGroups admits only members of one of these groups, read from
	// GroupsClaim of the ID token. oidc only.
	AllowGroups []string `json:"allow_groups,omitempty"`
	// GroupsClaim is the ID token claim holding groups. Default: groups.
	GroupsClaim string `json:"groups_claim,omitempty"`
	// ExtraScopes are OAuth scopes requested beyond the defaults (oidc:
	// openid email profile; github: read:user user:email, and read:org
	// when orgs or teams are checked).
	ExtraScopes []string `json:"extra_scopes,omitempty"`

	// AllowOrgs admits only members of one of these GitHub
	// organisations. github only.
	AllowOrgs []string `json:"allow_orgs,omitempty"`
	// AllowTeams admits only members of one of these teams, as org/team
	// slug. github only.
	AllowTeams []string `json:"allow_teams,omitempty"`
	// APIURL is GitHub's REST API. Default: https://api.github.com;
	// GitHub Enterprise Server: https://HOST/api/v3. github only.
	APIURL string `json:"api_url,omitempty"`
	// WebURL is GitHub's web origin, where the OAuth app's authorize and
	// token endpoints live. Default: https://github.com. github only.
	WebURL string `json:"web_url,omitempty"`

	// Scopes are the Gatehouse scopes of accounts this provider creates.
	// nil: every scope.
	Scopes []string `json:"scopes,omitempty"`
	// Tier is the tier of accounts this provider creates. Default: the
	// default tier.
	Tier string `json:"tier,omitempty"`
}

var providerName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// DisplayLabel is the provider's name as its button shows it.
func (ip IdentityProvider) DisplayLabel() string {
	switch {
	case ip.Label != "":
		return ip.Label
	case ip.Type == ProviderGitHub && ip.Name == "github":
		return "GitHub"
	}
	return ip.Name
}

// validateIdentityProviders checks the providers against the policy
// (scopes, tiers) and fills their defaults.
func (p *Policy) validateIdentityProviders(list []IdentityProvider) []error {
	var errs []error
	for _, ip := range list {
		if err := p.validateIdentityProvider(&ip); err != nil {
			errs = append(errs, fmt.Errorf("identity_provider %s: %w", ip.Name, err))
			continue
		}
		if slices.ContainsFunc(p.IdentityProviders, func(o IdentityProvider) bool { return o.Name == ip.Name }) {
			errs = append(errs, fmt.Errorf("identity_provider %s declared twice", ip.Name))
			continue
		}
		p.IdentityProviders = append(p.IdentityProviders, ip)
	}
	return errs
}

func (p *Policy) validateIdentityProvider(ip *IdentityProvider) error {
	var errs []error
	if !providerName.MatchString(ip.Name) {
		errs = append(errs, errors.New("the name must be 1 to 32 of a-z 0-9 _ -, starting with a letter or digit"))
	}
	if ip.ClientID == "" {
		errs = append(errs, errors.New("client_id is required"))
	}
	if (ip.ClientSecret == "") == (ip.ClientSecretFile == "") {
		errs = append(errs, errors.New("give exactly one of client_secret and client_secret_file"))
	}
	if ip.RedirectURL != "" {
		if err := absoluteURL(ip.RedirectURL); err != nil {
			errs = append(errs, fmt.Errorf("redirect_url: %w", err))
		}
	}
	for _, d := range ip.AllowEmailDomains {
		if d == "" || strings.ContainsAny(d, "@/ ") || d != strings.ToLower(d) {
			errs = append(errs, fmt.Errorf("allow_email_domains %q: a lower-case domain without @", d))
		}
	}
	if ip.Scopes != nil {
		if err := p.CheckScopes(ip.Scopes); err != nil {
			errs = append(errs, err)
		}
	}
	if ip.Tier == "" {
		ip.Tier = p.DefaultTier
	} else if err := p.CheckTier(ip.Tier); err != nil {
		errs = append(errs, err)
	}
	switch ip.Type {
	case ProviderOIDC:
		if err := absoluteURL(ip.Issuer); err != nil {
			errs = append(errs, fmt.Errorf("issuer: %w", err))
		}
		if len(ip.AllowOrgs) > 0 || len(ip.AllowTeams) > 0 || ip.APIURL != "" || ip.WebURL != "" {
			errs = append(errs, errors.New("allow_orgs, allow_teams, api_url and web_url are for github providers"))
		}
		if ip.GroupsClaim == "" {
			ip.GroupsClaim = DefaultGroupsClaim
		}
	case ProviderGitHub:
		if ip.Issuer != "" || len(ip.AllowGroups) > 0 || ip.GroupsClaim != "" {
			errs = append(errs, errors.New("issuer, allow_groups and groups_claim are for oidc providers; use allow_orgs or allow_teams"))
		}
		if ip.APIURL == "" {
			ip.APIURL = DefaultGitHubAPIURL
		}
		if ip.WebURL == "" {
			ip.WebURL = DefaultGitHubWebURL
		}
		for _, u := range []struct{ name, v string }{{"api_url", ip.APIURL}, {"web_url", ip.WebURL}} {
			if err := absoluteURL(u.v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", u.name, err))
			}
		}
		for _, t := range ip.AllowTeams {
			org, team, ok := strings.Cut(t, "/")
			if !ok || org == "" || team == "" || strings.Contains(team, "/") {
				errs = append(errs, fmt.Errorf("allow_teams %q: write org/team-slug", t))
			}
		}
		for _, o := range ip.AllowOrgs {
			if o == "" || strings.ContainsAny(o, "/ ") {
				errs = append(errs, fmt.Errorf("allow_orgs %q: an organisation's login", o))
			}
		}
	default:
		errs = append(errs, fmt.Errorf("type %q: oidc or github", ip.Type))
	}
	return errors.Join(errs...)
}

// absoluteURL accepts an http or https URL with a host, and nothing in
// it that a provider would not echo back (a fragment, credentials).
func absoluteURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Fragment != "" {
		return fmt.Errorf("%q: an absolute http(s) URL without credentials or fragment", s)
	}
	return nil
}
