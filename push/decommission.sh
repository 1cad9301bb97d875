#!/bin/sh
# decommission.sh TOKEN: started detached by `apply.sh --decommission`, once the session that
# asked for it has its answer. Puts back what first contact found — all but the receiver and
# its sudo rule, which the confirmation still needs — and so takes the mesh down. The
# confirmation comes the way the owner logs in; without it, the armed rollback puts the node
# back on the mesh.
set -eu
token=$1
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=push/lib.sh
. "$here/lib.sh"
sleep 2
[ -f "$PENDING/token" ] && [ "$(cat "$PENDING/token")" = "$token" ] || exit 0
# shellcheck source=/dev/null
. "$PENDING/node.env"
restore "$STATE/original" keep-access
# The project's table goes even where the owner's own ruleset does not flush others.
nft delete table inet "$NFT_TABLE" 2>/dev/null || true
activate_generic
activate_roles all
date +%s >"$PENDING/switched"
log "push $token: given back as first contact found it; waiting for the owner's way in to confirm"
