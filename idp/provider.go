package idp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/config"
)

// Identity is who a provider says signed in, once its own checks passed.
type Identity struct {
	// Provider is the provider's name.
	Provider string
	// Subject is the provider's stable id of the person: the ID token's
	// sub, GitHub's numeric user id. Accounts are keyed by it.
	Subject string
	// Username is the login the person would like (preferred_username,
	// the GitHub login); a new account's login is derived from it.
	Username string
	// Email is the verified email, or "" (an unverified address is
	// never kept).
	Email string
	// Groups are the groups (oidc) or the allowed orgs and teams the
	// person was found in (github), for the log.
	Groups []string
}

// flowProvider is one kind of provider: where to send the browser, and
// what the code it sends back proves.
type flowProvider interface {
	// authURL is the provider's authorization URL for one flow.
	authURL(ctx context.Context, redirect string, f *flow) (string, error)
	// exchange redeems code and returns the verified identity, or a
	// *Refusal.
	exchange(ctx context.Context, redirect, code string, f *flow) (*Identity, error)
}

// Provider is one configured identity provider, built and ready.
type Provider struct {
	cfg    config.IdentityProvider // ClientSecret and ClientSecretFile cleared
	secret string
	impl   flowProvider
	now    func() time.Time
}

// Options build providers.
type Options struct {
	// ResolveSecret expands the placeholders in a configured
	// client_secret (Caddy's replacer for `{env.*}`); nil keeps it as
	// written.
	ResolveSecret func(string) (string, error)
	// HTTPClient talks to the provider. Default: a client with a 10s
	// timeout.
	HTTPClient *http.Client
	// Now is the clock ID tokens are checked by. Default: time.Now.
	Now func() time.Time
}

// New builds the provider cfg describes (validated by config.Compile):
// it resolves the client secret but does not reach the provider, so a
// provider that is down does not keep Caddy from starting; discovery
// happens at the first sign-in.
func New(cfg config.IdentityProvider, o Options) (*Provider, error) {
	secret, err := resolveSecret(cfg, o.ResolveSecret)
	if err != nil {
		return nil, fmt.Errorf("identity_provider %s: %w", cfg.Name, err)
	}
	cfg.ClientSecret, cfg.ClientSecretFile = "", ""
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	p := &Provider{cfg: cfg, secret: secret, now: o.Now}
	switch cfg.Type {
	case config.ProviderOIDC:
		p.impl = &oidcProvider{p: p, client: o.HTTPClient}
	case config.ProviderGitHub:
		p.impl = &githubProvider{p: p, client: o.HTTPClient}
	default:
		return nil, fmt.Errorf("identity_provider %s: type %q: oidc or github", cfg.Name, cfg.Type)
	}
	return p, nil
}

// resolveSecret reads the client secret from the configuration (with
// placeholders expanded) or its file; an empty result is an error, so a
// missing environment variable is found at start, not at the provider.
// Errors name the variable or file, never the value.
func resolveSecret(cfg config.IdentityProvider, resolve func(string) (string, error)) (string, error) {
	if cfg.ClientSecretFile != "" {
		b, err := os.ReadFile(cfg.ClientSecretFile)
		if err != nil {
			return "", fmt.Errorf("client_secret_file: %w", err)
		}
		s := strings.TrimSpace(string(b))
		if s == "" {
			return "", fmt.Errorf("client_secret_file %s is empty", cfg.ClientSecretFile)
		}
		return s, nil
	}
	s := cfg.ClientSecret
	if resolve != nil {
		var err error
		if s, err = resolve(s); err != nil {
			return "", fmt.Errorf("client_secret: %w", err)
		}
	}
	if s == "" {
		return "", fmt.Errorf("client_secret %s is empty (is the environment variable set?)", cfg.ClientSecret)
	}
	return s, nil
}

// Name is the provider's name, as paths and links use it.
func (p *Provider) Name() string { return p.cfg.Name }

// Label is the provider's name as its button shows it.
func (p *Provider) Label() string { return p.cfg.DisplayLabel() }

// Config is the provider's configuration, without the client secret.
func (p *Provider) Config() config.IdentityProvider { return p.cfg }

// String names the provider; it never prints the secret.
func (p *Provider) String() string { return p.cfg.Type + " provider " + p.cfg.Name }

// checkEmail applies allow_email_domains: with a list, only a verified
// email at one of the domains passes.
func (p *Provider) checkEmail(id *Identity) error {
	if len(p.cfg.AllowEmailDomains) == 0 {
		return nil
	}
	if id.Email == "" {
		return refuse(ReasonEmailUnverified, http.StatusForbidden, "no verified email")
	}
	_, domain, ok := strings.Cut(id.Email, "@")
	domain = strings.ToLower(domain)
	if !ok || !slices.Contains(p.cfg.AllowEmailDomains, domain) {
		return refuse(ReasonEmailDomain, http.StatusForbidden, "email domain %q not allowed", domain)
	}
	return nil
}

// checkGroups applies allow_groups: a member of any listed group passes.
func (p *Provider) checkGroups(groups []string) error {
	if len(p.cfg.AllowGroups) == 0 {
		return nil
	}
	for _, g := range groups {
		if slices.Contains(p.cfg.AllowGroups, g) {
			return nil
		}
	}
	return refuse(ReasonGroup, http.StatusForbidden, "in none of the allowed groups")
}

var errNoSubject = errors.New("the provider named no subject")
