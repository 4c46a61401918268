package caddymodule

import "github.com/gatehouse/gatehouse/config"

// TEMPORARY scaffolding until resource roles (issue 6) land: role rules
// refuse everything.

func (a *App) checkRole(*Identity, *config.CompiledRule, *config.Params) *denial {
	return forbidden("insufficient_role", "roles are not supported yet")
}
