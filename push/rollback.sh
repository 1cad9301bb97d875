#!/bin/sh
# rollback.sh TOKEN [now]: puts back the configuration a push replaced, unless the push was
# confirmed in time. Armed by apply.sh before the switch; runs on its own when the window
# closes, with no SSH session needed.
set -eu
token=$1
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=push/lib.sh
. "$here/lib.sh"
[ -f "$PENDING/token" ] && [ "$(cat "$PENDING/token")" = "$token" ] || exit 0
# shellcheck source=/dev/null
. "$PENDING/clawd-mesh.env"
log "push $token was not confirmed in $(cat "$PENDING/window")s: restoring the previous configuration"
restore "$PENDING/previous"
if [ "$(cat "$PENDING/kind")" = nixos ]; then
  # nixos-rebuild test never touched the system profile: switching to it is going back.
  /nix/var/nix/profiles/system/bin/switch-to-configuration test
else
  activate_generic
  activate_roles all
fi
mkdir -p "$STATE/rolled-back"
{
  echo "token=$token"
  echo "at=$(date +%s)"
  echo "activated=$(cat "$PENDING/activated" 2>/dev/null || echo none)"
} >"$STATE/rolled-back/$token"
rm -rf "$PENDING"
log "push $token rolled back"
