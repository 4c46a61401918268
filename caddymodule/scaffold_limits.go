package caddymodule

import (
	"net/http"

	"github.com/gatehouse/gatehouse/config"
)

// TEMPORARY scaffolding until tiers (issue 5) and roles (issue 6) land.

func (a *App) limit(http.ResponseWriter, *http.Request, *Identity, string) *denial { return nil }

func (a *App) checkRole(*Identity, *config.CompiledRule, *config.Params) *denial {
	return forbidden("insufficient_role", "roles are not supported yet")
}
