package caddymodule

import (
	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse/gatehouse/config"
	"github.com/gatehouse/gatehouse/idp"
	"github.com/gatehouse/gatehouse/internal/clock"
)

// idpFlows seals identity providers' flow cookies for the whole
// process: every config generation shares it, so a reload neither breaks
// a sign-in under way nor forgets which flows were used.
var idpFlows = idp.NewFlows()

// buildProviders builds the policy's identity providers, resolving
// `{env.*}` (and other global placeholders) in their client secrets
// with Caddy's replacer. The provider is not contacted: one that is down
// does not stop Caddy from starting.
func buildProviders(policy *config.Policy) ([]*idp.Provider, error) {
	repl := caddy.NewReplacer()
	var out []*idp.Provider
	for _, c := range policy.IdentityProviders {
		// Unknown placeholders are kept, not reported: the error would
		// print them, and a literal secret may hold braces.
		p, err := idp.New(c, idp.Options{
			ResolveSecret: func(s string) (string, error) { return repl.ReplaceOrErr(s, true, false) },
			Now:           clock.Now, // ID token expiry on the clock the store's credentials live by
		})
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}
