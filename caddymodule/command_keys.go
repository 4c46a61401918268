package caddymodule

import (
	"fmt"
	"net/http"
	"os"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/problem"
)

func init() {
	adminRoutes = append(adminRoutes,
		adminRoute{"POST /gatehouse/store/rotate-key", bindAdmin((*App).adminRotateKey)})
	storeSubcommands = append(storeSubcommands, rotateKeyCommand)
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
	problem.WriteJSON(w, http.StatusOK, api.RotateKeyResponse{KeyID: kid})
	return nil
}

func rotateKeyCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "rotate-key",
		Short: "Replaces the session signing key; every browser logs in again",
		Long: `Replaces the key that signs session JWTs (browser cookies, CLI access
tokens) with a new one and deletes the old keys, so a key that leaked (a
copied store file or backup) signs nothing any more. Every session JWT
signed before is refused: browsers log in again, and CLI sessions get a new
access token with their refresh token. PATs are not affected.`,
		Args: cobra.NoArgs,
		RunE: runE(func(_ *cobra.Command, t *cliTarget, _ []string) error {
			var res api.RotateKeyResponse
			if err := t.call("POST", adminPrefix+"store/rotate-key", nil, &res); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "new session signing key %s; the old keys are deleted, so browsers log in again\n", res.KeyID)
			return nil
		}),
	}
}
