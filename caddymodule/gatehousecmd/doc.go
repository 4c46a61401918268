// Package gatehousecmd registers `caddy gatehouse …` with Caddy's CLI: the
// command tree of package admincli, with the flags that say where the
// store is (--address, --config, --adapter, --store) and the two targets
// its commands act on: the running server's admin API or, when no server
// answers, the admin handler over the store opened in this process.
//
// Importing it (plugin.go and cmd/caddy blank-import it) is what adds the
// command; caddymodule does not import it.
package gatehousecmd
