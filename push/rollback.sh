#!/bin/sh
# rollback.sh TOKEN [now]: puts back the configuration a push replaced, unless the push was
# confirmed in time. Armed by apply.sh before the switch; runs on its own when the window
# closes, with no SSH session needed. `now`: run by apply.sh, which holds the lock already.
# rollback.sh boot: run at boot by the boot rollback service (core/render/bootRollback.ts),
# before the firewall, the mesh and sshd start, on whichever push is pending.
# Once started it always completes: each step runs even when one before it failed, and the
# record in rolled-back/ says which failed.
set -u
token=$1
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=push/lib.sh
. "$here/lib.sh"
by=timer
if [ "${2:-}" = now ]; then by=apply; else take_lock; fi
if [ "$token" = boot ]; then
  # Every pending push is rolled back at boot, inside its window or past it: its timer went
  # with the old boot, so nothing else would before the next apply, and what the node runs
  # from now on must be a configuration someone confirmed. A confirmation that comes later
  # is refused (the record says the restart rolled it back) and the next `up` pushes again.
  by=boot
  [ -f "$PENDING/token" ] || exit 0
  token=$(cat "$PENDING/token")
fi
[ -f "$PENDING/token" ] && [ "$(cat "$PENDING/token")" = "$token" ] || exit 0
# shellcheck source=/dev/null
. "$PENDING/node.env"
if [ "$by" = boot ]; then
  log "push $token was not confirmed before the node restarted (its timer went with the restart): restoring the previous configuration before the firewall, the mesh and sshd start"
else
  log "push $token was not confirmed in $(cat "$PENDING/window")s: restoring the previous configuration"
fi
failed=""
step() {
  name=$1
  shift
  "$@" || failed="$failed $name"
}
# Peers this push kept on their previous keys (apply.sh keep_rotated) are followed no more: the
# configuration that names their new keys goes.
stop_follows behind
step restore restore "$PENDING/previous"
# A k3s server that took this push's join token gets the previous one back before the restart
# below. At boot k3s is not running yet, and its datastore holds the token it was handed: the
# restored file takes that one (lib.sh, k3s_keep_token).
if [ "$by" = boot ]; then
  step k3s-token k3s_keep_token
else
  step k3s-token k3s_take_token 9>&-
fi
if [ "$by" = boot ]; then
  # Nothing that reads the restored files runs yet: the units ordered after this one read them
  # as they start. Starting or restarting a unit from here would wait for the boot that waits
  # for this script. NixOS booted its boot entry, which only a confirmation makes.
  if [ "$(cat "$PENDING/kind")" != nixos ]; then
    step sysctl apply_sysctl
    if [ "$(init_system)" = systemd ]; then step units systemctl daemon-reload; fi
  fi
elif [ "$(cat "$PENDING/kind")" = nixos ]; then
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
  echo "by=$by"
  echo "failed=${failed# }"
} >"$STATE/rolled-back/$token"
# The follows ahead of a rotated hub that this push ended (apply.sh): the restored
# configuration names the hub's previous key again, so they start anew, with the scripts of
# the push that configuration came from. Not at boot: the mesh is not up yet, and a follow
# does not outlive a restart in any case (a spoke restarted during a hub's rotation is reached
# again only once its configuration names the hub's new key by hand; not handled yet).
# Under systemd each runs as a unit of its own: this script may be the rollback timer's
# service, whose remaining processes systemd ends with it.
if [ "$by" != boot ] && [ -s "$PENDING/ahead" ] && [ -f "$INSTALLED/scripts/follow.sh" ]; then
  n=0
  while read -r address seconds new previous; do
    n=$((n + 1))
    set -- sh "$INSTALLED/scripts/follow.sh" "$address" "$seconds" "$new" "$previous" ahead
    if [ "$(init_system)" = systemd ]; then
      systemd-run --quiet --collect --unit "clawd-mesh-follow-$token-$n" "$@" 9>&-
    else
      setsid "$@" </dev/null >>"$STATE/follow.log" 2>&1 9>&- &
    fi
    log "following $address ahead again, from its previous key"
  done <"$PENDING/ahead"
fi
rm -rf "$PENDING"
if [ -n "$failed" ]; then
  log "push $token rolled back, but these steps failed:$failed"
  exit 1
fi
log "push $token rolled back"
