// Command caddy is Caddy with its standard modules and Gatehouse built in:
// `go build ./cmd/caddy` gives the same binary as ./xcaddy.sh.
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/gatehouse/gatehouse/caddymodule"
	_ "github.com/gatehouse/gatehouse/caddymodule/gatehousecmd"
)

func main() { caddycmd.Main() }
