package caddymodule

import (
	"fmt"
	"net/http"
	"os"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/authstore"
)

func init() {
	adminRoutes = append(adminRoutes,
		adminRoute{"POST /gatehouse/store/rotate-key", bindAdmin((*App).adminRotateKey)})
	storeSubcommands = append(storeSubcommands, rotateKeyCommand)
}

// rotateKeyResponse is the answer of POST /gatehouse/store/rotate-key.
type rotateKeyResponse struct {
	// KeyID is the kid new session JWTs carry from now on.
	KeyID string `json:"key_id"`
}

// adminRotateKey makes a new session signing key current. Sessions keep
// working: their JWTs, signed with an older key, verify until they
// expire (the old keys stay in the store).
func (a *App) adminRotateKey(w http.ResponseWriter, _ *http.Request) error {
	kid, err := a.store.RotateSigningKey(authstore.AdminActor)
	if err != nil {
		return err
	}
	a.logger.Info("session signing key rotated", zap.String("key_id", kid))
	writeJSON(w, http.StatusOK, rotateKeyResponse{KeyID: kid})
	return nil
}

func rotateKeyCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "rotate-key",
		Short: "Signs new session tokens with a new key; existing sessions keep working",
		Long: `Creates a new key for signing session JWTs (browser cookies, CLI access
tokens) and makes it current. Use it when the store file or a backup may
have been copied, or on a schedule. Sessions signed with older keys keep
verifying until they expire, so nobody is logged out; to end them at once,
revoke them ('caddy gatehouse session revoke').`,
		Args: cobra.NoArgs,
		RunE: runE(func(_ *cobra.Command, t *cliTarget, _ []string) error {
			var res rotateKeyResponse
			if err := t.call("POST", adminPrefix+"store/rotate-key", nil, &res); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "new session signing key %s; sessions signed with older keys stay valid until they expire\n", res.KeyID)
			return nil
		}),
	}
}
