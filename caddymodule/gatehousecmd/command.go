package gatehousecmd

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/admincli"
)

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "gatehouse",
		Usage: "<user|token|store|audit|status> …",
		Short: "Manages Gatehouse users, tokens, sessions and the store",
		Long: `
Manages the Gatehouse store: users, personal access tokens, sessions,
memberships, backups.

While Caddy runs, the store file is locked, so commands go through the
running server's admin API (found with --address, or from the config given
with --config, or the default localhost:2019). When no server answers, they
open the store directly: the file named by --store, or by the gatehouse
global option of the config, or the default under Caddy's data directory.`,
		CobraFunc: build,
	})
}

// build gives `caddy gatehouse` the flags that say where the store is and
// the command tree of package admincli.
func build(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringP("config", "c", "", "Caddyfile or JSON config whose admin address and store to use")
	f.StringP("adapter", "a", "", "Name of the config adapter")
	f.String("address", "", "Admin API address of the running server")
	f.String("store", "", "Store file to open when no server runs")
	admincli.AddCommands(cmd, openTarget)
	addMigrate(cmd)
}
