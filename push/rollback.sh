#!/bin/sh
# rollback.sh TOKEN [now]: puts back the configuration a push replaced, unless the push was
# confirmed in time. Armed by apply.sh before the switch; runs on its own when the window
# closes, with no SSH session needed. `now`: run by apply.sh, which holds the lock already.
# Once started it always completes: each step runs even when one before it failed, and the
# record in rolled-back/ says which failed.
set -u
token=$1
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=push/lib.sh
. "$here/lib.sh"
[ "${2:-}" = now ] || take_lock
[ -f "$PENDING/token" ] && [ "$(cat "$PENDING/token")" = "$token" ] || exit 0
# shellcheck source=/dev/null
. "$PENDING/node.env"
log "push $token was not confirmed in $(cat "$PENDING/window")s: restoring the previous configuration"
failed=""
step() {
  name=$1
  shift
  "$@" || failed="$failed $name"
}
step restore restore "$PENDING/previous"
if [ "$(cat "$PENDING/kind")" = nixos ]; then
  # nixos-rebuild test never touched the system profile: switching to it is going back.
  step switch /nix/var/nix/profiles/system/bin/switch-to-configuration test 9>&-
else
  step activate activate_generic 9>&-
  step roles activate_roles all 9>&-
fi
mkdir -p "$STATE/rolled-back"
{
  echo "token=$token"
  echo "at=$(date +%s)"
  echo "activated=$(cat "$PENDING/activated" 2>/dev/null || echo none)"
  echo "failed=${failed# }"
} >"$STATE/rolled-back/$token"
rm -rf "$PENDING"
if [ -n "$failed" ]; then
  log "push $token rolled back, but these steps failed:$failed"
  exit 1
fi
log "push $token rolled back"
