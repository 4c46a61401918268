#!/usr/bin/env bash
# Builds ./caddy with Gatehouse through xcaddy, the way operators add
# plugins to Caddy, then checks that the modules are in it.
#
# xcaddy is pinned as a Go tool in go.mod (go get -tool), so no separate
# install is needed. The module is unpublished, so it is given as
# <module>@v0.0.0=./ (xcaddy would otherwise ask the module proxy for it).
set -euo pipefail
cd "$(dirname "$0")"

CADDY_VERSION=v2.11.9
OUTPUT=${OUTPUT:-./caddy}

go tool xcaddy build "$CADDY_VERSION" \
	--output "$OUTPUT" \
	--with github.com/gatehouse/gatehouse@v0.0.0=./

"$OUTPUT" version
modules=$("$OUTPUT" list-modules)
for m in gatehouse http.handlers.gatehouse admin.api.gatehouse; do
	if ! grep -qx "$m" <<<"$modules"; then
		echo "xcaddy.sh: module $m missing from $OUTPUT" >&2
		exit 1
	fi
done
echo "xcaddy.sh: built $OUTPUT with Gatehouse"
