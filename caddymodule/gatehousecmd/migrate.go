package gatehousecmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/caddymodule"
	"github.com/gatehouse/gatehouse/config"
)

const migrateLong = `Copies a single-edge bbolt store into etcd for fleet mode (store etcd { … }).
Every credential is copied (users, logins, tokens, sessions, refresh
families, device grants, signing keys, setup state); the audit trail stays
in the file, since each edge keeps its own. Stop Caddy first, or migrate a
backup (caddy gatehouse store backup): the file is opened read-only.

It is idempotent and resumable: keys are only ever created, a key etcd
holds with the same value counts as present, one it holds with another
value is left alone and listed. It ends by reading every key back and
comparing the count and a SHA-256 checksum. Run it before any edge starts
on the prefix.`

// addMigrate adds `store migrate` to the tree admincli built: it talks to
// the file and etcd directly, not to a server's admin API.
func addMigrate(root *cobra.Command) {
	var store *cobra.Command
	for _, c := range root.Commands() {
		if c.Name() == "store" {
			store = c
		}
	}
	if store == nil {
		return
	}
	cmd := &cobra.Command{
		Use:   "migrate --to etcd --endpoints <url,…> [--from <file>]",
		Short: "Copies a bbolt store into etcd (fleet mode); idempotent, resumable, verified",
		Long:  migrateLong,
		Args:  cobra.NoArgs,
		RunE:  runMigrate,
	}
	f := cmd.Flags()
	f.String("to", "", "Target engine: etcd")
	f.String("from", "", "bbolt store file (default: --store, or the default store)")
	f.StringSlice("endpoints", nil, "etcd client URLs")
	f.String("prefix", "", "Key prefix (default /gatehouse/)")
	f.String("ca", "", "CA bundle for etcd's TLS")
	f.String("cert", "", "Client certificate for etcd")
	f.String("key", "", "Client key for etcd")
	f.String("username", "", "etcd user")
	f.String("password-env", "", "Environment variable holding the etcd user's password")
	f.Bool("json", false, "Print the report as JSON")
	store.AddCommand(cmd)
}

func runMigrate(cmd *cobra.Command, _ []string) error {
	fl := cmd.Flags()
	if to, _ := fl.GetString("to"); to != "etcd" {
		return errors.New("store migrate: --to etcd is required (the only target)")
	}
	from, _ := fl.GetString("from")
	if from == "" {
		from, _ = fl.GetString("store")
	}
	if from == "" {
		from = caddymodule.DefaultStorePath()
	}
	if _, err := os.Stat(from); err != nil {
		return fmt.Errorf("store migrate: %w", err)
	}
	e := &config.Etcd{}
	e.Endpoints, _ = fl.GetStringSlice("endpoints")
	e.Prefix, _ = fl.GetString("prefix")
	e.Username, _ = fl.GetString("username")
	if env, _ := fl.GetString("password-env"); env != "" {
		e.Password = os.Getenv(env)
	}
	ca, _ := fl.GetString("ca")
	cert, _ := fl.GetString("cert")
	key, _ := fl.GetString("key")
	if ca != "" || cert != "" || key != "" {
		e.TLS = &config.EtcdTLS{CA: ca, Cert: cert, Key: key}
	}
	if err := e.Validate(); err != nil {
		return err
	}
	fo, err := caddymodule.FleetOptions(e)
	if err != nil {
		return err
	}
	rep, err := authstore.MigrateToEtcd(cmd.Context(), from, *fo)
	if err != nil {
		return err
	}
	if asJSON, _ := fl.GetBool("json"); asJSON {
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	w := cmd.ErrOrStderr()
	fmt.Fprintf(w, "migrated %s to etcd %v: %d keys, %d copied, %d already present, checksum %s verified\n",
		from, e.Endpoints, rep.Keys, rep.Copied, rep.Present, rep.Checksum)
	for _, k := range rep.Differing {
		fmt.Fprintf(w, "left alone (etcd holds another value): %s\n", k)
	}
	if len(rep.Differing) > 0 {
		return fmt.Errorf("store migrate: %d keys differ in etcd", len(rep.Differing))
	}
	return nil
}
