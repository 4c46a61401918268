package caddymodule

import (
	"net/http"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse/gatehouse/decision"
	"github.com/gatehouse/gatehouse/gate"
)

// Identity is who a request acts as; see package decision.
type Identity = decision.Identity

// forward hands the identity to the upstream as the site's headers
// (gate) and to the rest of the Caddy route as placeholders, which are
// all set whichever headers the site sends.
func forward(r *http.Request, repl *caddy.Replacer, headers *gate.UpstreamHeaders, id *Identity) {
	scopes := headers.Set(r.Header, id)
	repl.Set("gatehouse.credential", id.Credential)
	repl.Set("gatehouse.tier", id.Tier)
	if id.User == nil {
		return
	}
	repl.Set("http.auth.user.id", id.User.ID)
	repl.Set("gatehouse.user_id", id.User.ID)
	repl.Set("gatehouse.user", id.User.Login)
	repl.Set("gatehouse.scopes", scopes)
	if id.PAT != nil {
		repl.Set("gatehouse.token_id", id.PAT.ID)
	}
	if id.Resource != "" {
		repl.Set("gatehouse.resource", id.Resource)
		repl.Set("gatehouse.role", id.Role)
	}
}
