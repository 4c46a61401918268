// Package gatehouse is the root of the Gatehouse module; importing it
// registers the Caddy modules and the `caddy gatehouse` command (this is
// what xcaddy imports).
package gatehouse

import (
	_ "github.com/gatehouse/gatehouse/caddymodule"
	_ "github.com/gatehouse/gatehouse/caddymodule/gatehousecmd"
)
