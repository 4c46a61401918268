package caddymodule

import (
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/gatehouse/gatehouse/config"
)

// unmarshalIdentityProvider parses one identity provider of the global
// option:
//
//	identity_provider <name> oidc|github {
//	    label <text>
//	    issuer <url>                     # oidc
//	    client_id <id>
//	    client_secret <secret>           # usually {env.NAME}
//	    client_secret_file <path>
//	    redirect_url <url>
//	    allow_email_domains <domain...>
//	    allow_groups <group...>          # oidc
//	    groups_claim <claim>             # oidc
//	    extra_scopes <oauth scope...>
//	    allow_orgs <org...>              # github
//	    allow_teams <org/team...>        # github
//	    api_url <url>                    # github
//	    web_url <url>                    # github
//	    scopes <scope...>
//	    tier <tier>
//	}
//
// The whole provider is checked by config.Compile when the block ends;
// scopes and tier are checked against the block's catalog at their line.
func unmarshalIdentityProvider(d *caddyfile.Dispenser, later func(func(*config.Policy) error)) (config.IdentityProvider, error) {
	var ip config.IdentityProvider
	if !d.Args(&ip.Name, &ip.Type) || d.NextArg() {
		return ip, d.Err("identity_provider needs a name and a type: identity_provider corp oidc { … }")
	}
	if ip.Type != config.ProviderOIDC && ip.Type != config.ProviderGitHub {
		return ip, d.Errf("identity_provider %s: type %q: oidc or github", ip.Name, ip.Type)
	}
	one := map[string]*string{
		"label": &ip.Label, "issuer": &ip.Issuer, "client_id": &ip.ClientID, "client_secret": &ip.ClientSecret,
		"client_secret_file": &ip.ClientSecretFile, "redirect_url": &ip.RedirectURL, "groups_claim": &ip.GroupsClaim,
		"api_url": &ip.APIURL, "web_url": &ip.WebURL, "tier": &ip.Tier,
	}
	many := map[string]*[]string{
		"allow_email_domains": &ip.AllowEmailDomains, "allow_groups": &ip.AllowGroups, "extra_scopes": &ip.ExtraScopes,
		"allow_orgs": &ip.AllowOrgs, "allow_teams": &ip.AllowTeams, "scopes": &ip.Scopes,
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		key := d.Val()
		if dst, ok := one[key]; ok {
			if *dst != "" {
				return ip, d.Errf("identity_provider %s: %s given twice", ip.Name, key)
			}
			if !d.AllArgs(dst) {
				return ip, d.ArgErr()
			}
			if key == "tier" {
				tier := ip.Tier
				later(func(p *config.Policy) error { return p.CheckTier(tier) })
			}
			continue
		}
		if dst, ok := many[key]; ok {
			args := d.RemainingArgs()
			if len(args) == 0 {
				return ip, d.ArgErr()
			}
			*dst = append(*dst, args...)
			if key == "scopes" {
				scopes := ip.Scopes
				later(func(p *config.Policy) error { return p.CheckScopes(scopes) })
			}
			continue
		}
		return ip, d.Errf("identity_provider %s: unrecognized option '%s'", ip.Name, key)
	}
	return ip, nil
}

// onOffArg reads one argument that is on or off.
func onOffArg(d *caddyfile.Dispenser) (bool, error) {
	name, v := d.Val(), ""
	if !d.AllArgs(&v) {
		return false, d.ArgErr()
	}
	switch v {
	case "on":
		return true, nil
	case "off":
		return false, nil
	}
	return false, d.Errf("%s %q: on or off", name, v)
}
