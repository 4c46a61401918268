package admincli

import "github.com/spf13/cobra"

// AddCommands adds the `caddy gatehouse …` subcommands to root. Every
// command that acts on the store opens its Target with open once its
// flags are parsed, and closes it when done.
func AddCommands(root *cobra.Command, open Opener) {
	r := runner{open: open}

	// caddy gatehouse user …
	user := &cobra.Command{Use: "user", Short: "Manages users"}
	userAdd := &cobra.Command{
		Use:   "add <login>",
		Short: "Creates a user",
		Args:  cobra.ExactArgs(1),
		RunE:  r.run(addUser),
	}
	userAdd.Flags().String("tier", "", "Rate-limit tier (default: the default tier)")
	userAdd.Flags().String("scopes", "", "Comma-separated scopes the user may hold, or none (default: all)")
	userAdd.Flags().Bool("admin", false, "Give the user the administrator role (the browser console)")
	userList := &cobra.Command{
		Use:   "list",
		Short: "Lists users",
		Args:  cobra.NoArgs,
		RunE:  r.run(listUsers),
	}
	userList.Flags().Bool("json", false, "Print a JSON array")
	userDisable := &cobra.Command{
		Use:   "disable <login>",
		Short: "Disables a user: their tokens and sessions stop working at once",
		Args:  cobra.ExactArgs(1),
		RunE:  r.run(setUserState("disable")),
	}
	userEnable := &cobra.Command{
		Use:   "enable <login>",
		Short: "Enables a disabled user",
		Args:  cobra.ExactArgs(1),
		RunE:  r.run(setUserState("enable")),
	}
	userSetTier := &cobra.Command{
		Use:   "set-tier <login> <tier>",
		Short: "Moves a user to another rate-limit tier",
		Args:  cobra.ExactArgs(2),
		RunE:  r.run(setTier),
	}
	userSetAdmin := &cobra.Command{
		Use:   "set-admin <login> [--off]",
		Short: "Gives a user the administrator role (the browser console), or takes it with --off",
		Args:  cobra.ExactArgs(1),
		RunE:  r.run(setAdmin),
	}
	userSetAdmin.Flags().Bool("off", false, "Take the administrator role away")
	userPasswd := &cobra.Command{
		Use:   "passwd <login> [--password-stdin]",
		Short: "Sets a user's password and ends their sessions",
		Long:  passwdLong,
		Args:  cobra.ExactArgs(1),
		RunE:  r.passwd,
	}
	userPasswd.Flags().Bool("password-stdin", false, "Read the password from the first line of standard input")
	userTOTP := &cobra.Command{Use: "totp", Short: "Turns a user's second factor (TOTP) on or off"}
	userTOTP.AddCommand(
		&cobra.Command{
			Use:   "enable <login>",
			Short: "Gives a user a TOTP secret and prints its otpauth:// URL once",
			Long:  totpEnableLong,
			Args:  cobra.ExactArgs(1),
			RunE:  r.run(enableTOTP),
		},
		&cobra.Command{
			Use:   "disable <login>",
			Short: "Removes a user's TOTP secret",
			Args:  cobra.ExactArgs(1),
			RunE:  r.run(disableTOTP),
		},
	)
	userLink := &cobra.Command{
		Use:   "link <login> <provider> <subject>",
		Short: "Lets a user sign in through an identity provider as the person with that subject",
		Long:  linkLong,
		Args:  cobra.ExactArgs(3),
		RunE:  r.run(linkIdentity),
	}
	userUnlink := &cobra.Command{
		Use:   "unlink <provider> <subject>",
		Short: "Removes a link to an identity provider's subject; the account stays",
		Args:  cobra.ExactArgs(2),
		RunE:  r.run(unlinkIdentity),
	}
	userLinks := &cobra.Command{
		Use:   "links [<login>] [--json]",
		Short: "Lists the identity provider links, of one user or of everyone",
		Args:  cobra.MaximumNArgs(1),
		RunE:  r.run(listIdentities),
	}
	userLinks.Flags().Bool("json", false, "Print a JSON array")
	user.AddCommand(userAdd, userList, userDisable, userEnable, userSetTier, userSetAdmin, userPasswd, userTOTP, userLink, userUnlink, userLinks)

	// caddy gatehouse member …
	member := &cobra.Command{
		Use:   "member",
		Short: "Manages users' roles on resources (project atlas: edit)",
		Long:  memberLong,
	}
	memberList := &cobra.Command{
		Use:   "list [<login>] [--json]",
		Short: "Lists memberships, of one user or of everyone",
		Args:  cobra.MaximumNArgs(1),
		RunE:  r.run(listMembers),
	}
	memberList.Flags().Bool("json", false, "Print a JSON array")
	member.AddCommand(
		&cobra.Command{
			Use:   "set <login> <type> <name> <role>",
			Short: "Gives a user a role on a resource, replacing the role held there",
			Args:  cobra.ExactArgs(4),
			RunE:  r.run(setMember),
		},
		&cobra.Command{
			Use:   "remove <login> <type> <name>",
			Short: "Takes a user's role on a resource away",
			Args:  cobra.ExactArgs(3),
			RunE:  r.run(removeMember),
		},
		memberList,
	)

	// caddy gatehouse session …
	session := &cobra.Command{Use: "session", Short: "Lists and revokes login sessions"}
	sessionList := &cobra.Command{
		Use:   "list [--user <login>] [--json]",
		Short: "Lists browser and CLI sessions",
		Args:  cobra.NoArgs,
		RunE:  r.run(listSessions),
	}
	sessionList.Flags().String("user", "", "Only this user's sessions")
	sessionList.Flags().Bool("json", false, "Print a JSON array")
	sessionRevoke := &cobra.Command{
		Use:   "revoke <id> | --user <login> --all",
		Short: "Ends a session, or every session of a user, at once",
		Args:  cobra.MaximumNArgs(1),
		RunE:  r.run(revokeSessions),
	}
	sessionRevoke.Flags().String("user", "", "The user whose sessions to end (with --all)")
	sessionRevoke.Flags().Bool("all", false, "End every session of --user (log out everywhere)")
	session.AddCommand(sessionList, sessionRevoke)

	// caddy gatehouse token …
	token := &cobra.Command{Use: "token", Short: "Manages personal access tokens"}
	tokenCreate := &cobra.Command{
		Use:   "create --user <login> --scopes a,b --expires-days N --name <name>",
		Short: "Creates a PAT and prints it, alone, on stdout",
		Long:  tokenCreateLong,
		Args:  cobra.NoArgs,
		RunE:  r.run(createToken),
	}
	tokenCreate.Flags().String("user", "", "Owner's login (required)")
	tokenCreate.Flags().String("scopes", "", "Comma-separated scopes (required)")
	tokenCreate.Flags().Int("expires-days", 0, "Lifetime in days, 1 to pat_max_days (required unless --no-expiry)")
	tokenCreate.Flags().Bool("no-expiry", false, "Never expires (only where pat_allow_no_expiry is set)")
	tokenCreate.Flags().String("name", "", "A name to recognise the token by")
	tokenCreate.Flags().String("resources", "", "Per-resource caps, e.g. project:atlas=read,project:zoo=edit")
	tokenCreate.Flags().Bool("all-resources", false, "Every resource at the owner's membership role (the default)")
	tokenList := &cobra.Command{
		Use:   "list [--user <login>] [--json]",
		Short: "Lists tokens (never the tokens themselves)",
		Args:  cobra.NoArgs,
		RunE:  r.run(listTokens),
	}
	tokenList.Flags().String("user", "", "Only this user's tokens")
	tokenList.Flags().Bool("json", false, "Print a JSON array")
	token.AddCommand(tokenCreate, tokenList, &cobra.Command{
		Use:   "revoke <id>",
		Short: "Revokes a token; the next request with it is refused",
		Args:  cobra.ExactArgs(1),
		RunE:  r.run(revokeToken),
	})

	// caddy gatehouse store …
	storeStatus := &cobra.Command{
		Use:   "status",
		Short: "Shows the store's engine and, in fleet mode, its mirror's revision, staleness, outbox and the live edges",
		Args:  cobra.NoArgs,
		RunE:  r.run(showStoreStatus),
	}
	storeStatus.Flags().Bool("json", false, "Print JSON")
	rotate := &cobra.Command{
		Use:   "rotate-key [--assertion [--alg EdDSA|ES256] [--overlap 24h]]",
		Short: "Replaces the session signing key (every browser logs in again), or the identity-assertion key",
		Long:  rotateKeyLong,
		Args:  cobra.NoArgs,
		RunE:  r.run(rotateKey),
	}
	rotate.Flags().Bool("assertion", false, "Rotate the key that signs Gatehouse-Assertion instead")
	rotate.Flags().String("alg", "", "With --assertion: the algorithm, EdDSA (default) or ES256")
	rotate.Flags().String("overlap", "", "With --assertion: how long the old key stays published (default 24h)")
	store := &cobra.Command{Use: "store", Short: "Backs up and checks the store"}
	store.AddCommand(
		&cobra.Command{
			Use:   "backup <file>",
			Short: "Writes a consistent copy of the store, even while Caddy runs",
			Args:  cobra.ExactArgs(1),
			RunE:  r.run(backupStore),
		},
		&cobra.Command{
			Use:   "check",
			Short: "Checks the store's structure and indexes",
			Args:  cobra.NoArgs,
			RunE:  r.run(checkStore),
		},
		storeStatus,
		rotate,
	)

	// caddy gatehouse audit, caddy gatehouse status
	audit := &cobra.Command{
		Use:   "audit [--user <login>] [--limit N]",
		Short: "Shows the audit trail, newest first",
		Args:  cobra.NoArgs,
		RunE:  r.run(showAudit),
	}
	audit.Flags().String("user", "", "Only events about this user")
	audit.Flags().Int("limit", 50, "How many events")
	audit.Flags().Bool("json", false, "Print a JSON array")
	status := &cobra.Command{
		Use:   "status",
		Short: "Shows which store the commands use and what it holds",
		Args:  cobra.NoArgs,
		RunE:  r.run(showStatus),
	}

	// caddy gatehouse keys
	keys := &cobra.Command{
		Use:   "keys",
		Short: "Lists the keys that sign identity assertions, as the JWKS publishes them",
		Args:  cobra.NoArgs,
		RunE:  r.run(listKeys),
	}
	keys.Flags().Bool("json", false, "Print a JSON array")

	root.AddCommand(user, member, session, token, store, audit, status, keys)
}
