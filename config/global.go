package config

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Defaults applied by Compile.
const (
	DefaultTokenPrefix    = "gth_"
	DefaultPATMaxDays     = 365
	DefaultSessionTTL     = 14 * 24 * time.Hour
	DefaultAccessTTL      = time.Hour
	DefaultRefreshTTL     = 30 * 24 * time.Hour
	DefaultDeviceCodeTTL  = 10 * time.Minute
	DefaultDeviceInterval = 5 * time.Second
	DefaultRealm          = "gatehouse"
	DefaultTierName       = "free"
	AnonymousTier         = "anonymous"
)

// Global is the deployment-wide policy: the `gatehouse` app in JSON, the
// `gatehouse` global option in a Caddyfile.
type Global struct {
	// Store is the bbolt file. Default: gatehouse/gatehouse.db under
	// Caddy's data directory.
	Store string `json:"store,omitempty"`
	// Etcd, if set, is fleet mode: credentials live in etcd and Store is
	// unused (the mirror is Etcd.Mirror).
	Etcd *Etcd `json:"etcd,omitempty"`

	// TokenPrefix starts every PAT minted here. Default: gth_
	TokenPrefix string `json:"token_prefix,omitempty"`

	// Scopes is the catalog of `resource:action` scopes that PATs and rules
	// may name.
	Scopes []string `json:"scopes,omitempty"`

	// PATMaxDays is the longest lifetime of a PAT. Default: 365.
	PATMaxDays int `json:"pat_max_days,omitempty"`

	// PATAllowNoExpiry lets PATs be created without an expiry.
	PATAllowNoExpiry bool `json:"pat_allow_no_expiry,omitempty"`

	// Tiers are the rate-limit tiers. A user has one; anonymous requests
	// use the tier named "anonymous". Without tiers nothing is limited.
	Tiers []Tier `json:"tiers,omitempty"`

	// DefaultTier is given to new users. Default: free.
	DefaultTier string `json:"default_tier,omitempty"`

	// Budgets are named limits that a rule can use instead of the tier.
	Budgets []Tier `json:"budgets,omitempty"`

	// Resources declare resource types and their roles, lowest first.
	Resources []ResourceType `json:"resources,omitempty"`

	// SessionTTL is a browser session's absolute lifetime. Default: 14d.
	SessionTTL Duration `json:"session_ttl,omitempty"`
	// AccessTTL is a CLI access token's lifetime. Default: 1h.
	AccessTTL Duration `json:"access_ttl,omitempty"`
	// RefreshTTL is a CLI refresh token family's lifetime. Default: 30d.
	RefreshTTL Duration `json:"refresh_ttl,omitempty"`
	// DeviceCodeTTL is how long a device code waits for approval. Default: 10m.
	DeviceCodeTTL Duration `json:"device_code_ttl,omitempty"`
	// DeviceInterval is the initial polling interval. Default: 5s.
	DeviceInterval Duration `json:"device_interval,omitempty"`

	// Registration enables open agent registration when set.
	Registration *Registration `json:"registration,omitempty"`

	// Realm is named in WWW-Authenticate challenges. Default: gatehouse
	Realm string `json:"realm,omitempty"`

	// IdentityProviders are the external identity providers people may
	// sign in with in a browser (identity.go).
	IdentityProviders []IdentityProvider `json:"identity_providers,omitempty"`
	// LocalLogin false turns password sign-in off: the login page shows
	// only the identity providers' buttons. Default: on.
	LocalLogin *bool `json:"local_login,omitempty"`
}

// Tier is a rate-limit policy: Rate is "count/window" ("600/1m"); Burst
// is the largest instantaneous burst (0: the count).
type Tier struct {
	// Name is the tier's name, as users and RateLimit headers carry it.
	Name string `json:"name"`
	// Rate is "count/window", e.g. "600/1m".
	Rate string `json:"rate"`
	// Burst is the largest instantaneous burst. Default: the count.
	Burst int `json:"burst,omitempty"`
}

// Registration is open agent registration (POST /v1/auth/register).
type Registration struct {
	// Tiers a registering agent may ask for; the first is the default.
	Tiers []string `json:"tiers,omitempty"`
	// Scopes a registering agent may ask for.
	Scopes []string `json:"scopes,omitempty"`
	// Limit is the per-client-IP registration rate ("10/1h").
	Limit string `json:"limit,omitempty"`
	// ExpiresDays is the registered key's lifetime. Default: PATMaxDays.
	ExpiresDays int `json:"expires_days,omitempty"`
}

// ResourceType is a kind of resource with ordered roles ("project":
// read < edit < manage).
type ResourceType struct {
	// Name is the type, as rules and memberships name it ("project").
	Name string `json:"name"`
	// Roles are ordered lowest first ("read", "edit", "manage").
	Roles []string `json:"roles"`
}

// Policy is a validated Global with defaults applied.
type Policy struct {
	TokenPrefix      string
	Scopes           []string
	PATMaxDays       int
	PATAllowNoExpiry bool
	Tiers            map[string]Tier
	DefaultTier      string
	Budgets          map[string]Tier
	Resources        map[string]ResourceType
	SessionTTL       time.Duration
	AccessTTL        time.Duration
	RefreshTTL       time.Duration
	DeviceCodeTTL    time.Duration
	DeviceInterval   time.Duration
	Registration     *Registration
	Realm            string
	// IdentityProviders are validated, with their defaults filled.
	IdentityProviders []IdentityProvider
	// LocalLoginOff is local_login off: passwords do not sign in (the
	// zero value, a policy built by hand, keeps them on).
	LocalLoginOff bool
}

// Checks are the validators Compile borrows from the packages that own the
// formats, so this package depends on neither.
type Checks struct {
	// Rate parses "count/window" (ratelimit.ParseRate).
	Rate func(string) (int, time.Duration, error)
	// Prefix validates a token prefix (authstore.ValidatePrefix).
	Prefix func(string) error
}

// Compile validates g and applies defaults.
func Compile(g Global, checks Checks) (*Policy, error) {
	p := &Policy{
		TokenPrefix:      cmp.Or(g.TokenPrefix, DefaultTokenPrefix),
		PATMaxDays:       g.PATMaxDays,
		PATAllowNoExpiry: g.PATAllowNoExpiry,
		Tiers:            map[string]Tier{},
		Budgets:          map[string]Tier{},
		Resources:        map[string]ResourceType{},
		SessionTTL:       g.SessionTTL.Or(DefaultSessionTTL),
		AccessTTL:        g.AccessTTL.Or(DefaultAccessTTL),
		RefreshTTL:       g.RefreshTTL.Or(DefaultRefreshTTL),
		DeviceCodeTTL:    g.DeviceCodeTTL.Or(DefaultDeviceCodeTTL),
		DeviceInterval:   g.DeviceInterval.Or(DefaultDeviceInterval),
		Registration:     g.Registration,
		Realm:            cmp.Or(g.Realm, DefaultRealm),
		LocalLoginOff:    g.LocalLogin != nil && !*g.LocalLogin,
	}
	var errs []error
	if g.Etcd != nil {
		if err := g.Etcd.Validate(); err != nil {
			errs = append(errs, err)
		}
		if g.Store != "" {
			errs = append(errs, errors.New("store: a path and etcd cannot both be set"))
		}
	}
	if err := checks.Prefix(p.TokenPrefix); err != nil {
		errs = append(errs, fmt.Errorf("token_prefix: %w", err))
	}
	if p.PATMaxDays == 0 {
		p.PATMaxDays = DefaultPATMaxDays
	}
	if p.PATMaxDays < 1 || p.PATMaxDays > 100*365 {
		errs = append(errs, fmt.Errorf("pat_max_days %d: must be 1 to 36500", g.PATMaxDays))
	}
	for _, s := range g.Scopes {
		if err := ValidateScope(s); err != nil {
			errs = append(errs, err)
		} else if slices.Contains(p.Scopes, s) {
			errs = append(errs, fmt.Errorf("scope %s declared twice", s))
		} else {
			p.Scopes = append(p.Scopes, s)
		}
	}
	for _, list := range []struct {
		kind string
		in   []Tier
		out  map[string]Tier
	}{{"tier", g.Tiers, p.Tiers}, {"budget", g.Budgets, p.Budgets}} {
		for _, t := range list.in {
			if err := validateTier(t, checks.Rate); err != nil {
				errs = append(errs, fmt.Errorf("%s %s: %w", list.kind, t.Name, err))
			} else if _, dup := list.out[t.Name]; dup {
				errs = append(errs, fmt.Errorf("%s %s declared twice", list.kind, t.Name))
			} else {
				list.out[t.Name] = t
			}
		}
	}
	p.DefaultTier = cmp.Or(g.DefaultTier, DefaultTierName)
	if !p.HasTier(p.DefaultTier) {
		if g.DefaultTier == "" {
			errs = append(errs, fmt.Errorf("default_tier: no tier is named %s; name the default tier", DefaultTierName))
		} else {
			errs = append(errs, fmt.Errorf("default_tier %s: %w", p.DefaultTier, p.unknownTier()))
		}
	}
	for _, r := range g.Resources {
		if err := validateResourceType(r); err != nil {
			errs = append(errs, err)
		} else if _, dup := p.Resources[r.Name]; dup {
			errs = append(errs, fmt.Errorf("resource %s declared twice", r.Name))
		} else {
			p.Resources[r.Name] = r
		}
	}
	if p.SessionTTL < time.Minute || p.AccessTTL < time.Minute || p.RefreshTTL < time.Minute {
		errs = append(errs, errors.New("session_ttl, access_ttl and refresh_ttl must be at least 1m"))
	}
	if p.DeviceCodeTTL < 10*time.Second || p.DeviceInterval < time.Second {
		errs = append(errs, errors.New("device_code_ttl must be at least 10s and device_interval at least 1s"))
	}
	if strings.ContainsFunc(p.Realm, func(r rune) bool { return r < 0x20 || r > 0x7e || r == '"' || r == '\\' }) {
		errs = append(errs, fmt.Errorf("realm %q: printable ASCII without quotes or backslashes (it is quoted in WWW-Authenticate)", p.Realm))
	}
	if r := g.Registration; r != nil {
		errs = append(errs, p.validateRegistration(r, checks.Rate)...)
	}
	errs = append(errs, p.validateIdentityProviders(g.IdentityProviders)...)
	if p.LocalLoginOff && len(g.IdentityProviders) == 0 {
		errs = append(errs, errors.New("local_login off: declare an identity_provider, or nobody can sign in"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return p, nil
}

// HasTier reports whether a tier is declared. With no tiers declared
// (nothing is limited) the default tier is the only one.
func (p *Policy) HasTier(name string) bool {
	if len(p.Tiers) == 0 {
		return name != "" && name == p.DefaultTier
	}
	_, ok := p.Tiers[name]
	return ok
}

func (p *Policy) unknownTier() error {
	declared := sortedKeys(p.Tiers)
	if len(declared) == 0 {
		declared = []string{p.DefaultTier}
	}
	return fmt.Errorf("unknown tier (declared: %s)", strings.Join(declared, ", "))
}

// CheckTier returns an error naming the declared tiers if name is unknown.
func (p *Policy) CheckTier(name string) error {
	if !p.HasTier(name) {
		return fmt.Errorf("tier %q: %w", name, p.unknownTier())
	}
	return nil
}

func (p *Policy) validateRegistration(r *Registration, parseRate func(string) (int, time.Duration, error)) []error {
	var errs []error
	if len(r.Tiers) == 0 {
		errs = append(errs, errors.New("registration: name at least one tier"))
	}
	for _, t := range r.Tiers {
		if err := p.CheckTier(t); err != nil {
			errs = append(errs, fmt.Errorf("registration: %w", err))
		}
	}
	if err := p.CheckScopes(r.Scopes); err != nil {
		errs = append(errs, fmt.Errorf("registration: %w", err))
	}
	if r.Limit == "" {
		errs = append(errs, errors.New("registration: limit is required (e.g. 10/1h)"))
	} else if _, _, err := parseRate(r.Limit); err != nil {
		errs = append(errs, fmt.Errorf("registration limit: %w", err))
	}
	if r.ExpiresDays < 0 || r.ExpiresDays > p.PATMaxDays {
		errs = append(errs, fmt.Errorf("registration expires_days %d: must be 1 to %d", r.ExpiresDays, p.PATMaxDays))
	}
	return errs
}

func validateTier(t Tier, parseRate func(string) (int, time.Duration, error)) error {
	if err := validateName(t.Name); err != nil {
		return err
	}
	if _, _, err := parseRate(t.Rate); err != nil {
		return err
	}
	if t.Burst < 0 {
		return fmt.Errorf("burst %d: must not be negative", t.Burst)
	}
	return nil
}

func validateResourceType(r ResourceType) error {
	if err := validateName(r.Name); err != nil {
		return fmt.Errorf("resource %w", err)
	}
	if len(r.Roles) == 0 {
		return fmt.Errorf("resource %s: declare its roles, lowest first", r.Name)
	}
	for i, role := range r.Roles {
		if err := validateName(role); err != nil {
			return fmt.Errorf("resource %s: role %w", r.Name, err)
		}
		if slices.Contains(r.Roles[:i], role) {
			return fmt.Errorf("resource %s: role %s listed twice", r.Name, role)
		}
	}
	return nil
}

// validateName accepts identifiers used in headers and config: 1 to 32 of
// a-z 0-9 _ -, starting with a letter.
func validateName(n string) error {
	if n == "" || len(n) > 32 || !(n[0] >= 'a' && n[0] <= 'z') {
		return fmt.Errorf("name %q: must start with a-z and be at most 32 characters", n)
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return fmt.Errorf("name %q: only a-z, 0-9, _ and - are allowed", n)
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
