#!/bin/sh
# confirm.sh TOKEN: run over a fresh SSH connection on the management path the new
# configuration leaves (its arrival is the first proof). Checks the WireGuard tunnel and the
# node's services, then disarms the rollback and, on NixOS, makes the new boot entry.
set -eu
token=$1
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=push/lib.sh
. "$here/lib.sh"
take_lock
if [ ! -f "$PENDING/token" ]; then
  if grep -qx "by=boot" "$STATE/rolled-back/$token" 2>/dev/null; then
    fail "push $token was rolled back when the node restarted before it was confirmed; run up again to push it anew"
  fi
  if [ -f "$STATE/rolled-back/$token" ]; then
    fail "push $token was already rolled back: confirmation came too late"
  fi
  fail "no push is waiting for confirmation"
fi
[ "$(cat "$PENDING/token")" = "$token" ] || fail "the waiting push is $(cat "$PENDING/token"), not $token"
# shellcheck source=/dev/null
. "$PENDING/node.env"
activated=$(cat "$PENDING/activated")
# Past the deadline the rollback owns the push, whether or not its timer has fired yet.
[ "$(date +%s)" -lt "$(cat "$PENDING/deadline")" ] ||
  fail "push $token passed its deadline $(cat "$PENDING/deadline") unconfirmed: confirmation came too late; the node restores its previous configuration"
deadline=$(($(cat "$PENDING/deadline") - 5))

# WireGuard: a handshake newer than the activation; or, when the push left the node's own
# identity (key, address, port) as it was, a session that is still live (under 180 s old):
# wg syncconf keeps sessions, so a live one crossed the switch intact.
wg_proven() {
  case $(cat "$PENDING/mode") in bootstrap | decommission) return 0 ;; esac
  # A push that gave every peer this node knew a new key (their keys all rotated in this up)
  # leaves none that can answer before their own pushes, which wait for this one: there is no
  # handshake to prove yet, and waiting for one would roll back every such rotation.
  if [ -z "$HANDSHAKE_PEER" ] && [ -s "$PENDING/peers-before" ] &&
    ! wg show "$WG_INTERFACE" peers 2>/dev/null | grep -qFxf "$PENDING/peers-before"; then
    return 0
  fi
  same_identity=no
  [ "$(cat "$PENDING/wg-before")" = "$(cat "$PENDING/wg-after")" ] && same_identity=yes
  while :; do
    now=$(date +%s)
    newest=0
    for stamp in $(wg show "$WG_INTERFACE" latest-handshakes 2>/dev/null |
      awk -v peer="$HANDSHAKE_PEER" 'peer == "" || $1 == peer { print $2 }'); do
      [ "$stamp" -gt "$newest" ] && newest=$stamp
    done
    [ "$newest" -gt "$activated" ] && return 0
    # In the second of the switch itself: a handshake that is not the one the peer had before.
    if [ -f "$PENDING/handshakes-before" ] &&
      wg show "$WG_INTERFACE" latest-handshakes 2>/dev/null | awk -v peer="$HANDSHAKE_PEER" -v t="$activated" '
        FILENAME == ARGV[1] { before[$1] = $2; next }
        (peer == "" || $1 == peer) && $2 >= t && $2 != before[$1] { found = 1 }
        END { exit !found }' "$PENDING/handshakes-before" -; then
      return 0
    fi
    [ "$same_identity" = yes ] && [ "$newest" -gt $((now - 180)) ] && return 0
    [ "$now" -ge "$deadline" ] && return 1
    sleep 1
  done
}

# Every role endpoint that answered before the switch answers again (a restarted k3s takes a
# while: it is asked until the deadline).
roles_up() {
  # A host given back keeps no role of ours.
  [ "$(cat "$PENDING/mode")" = decommission ] && return 0
  [ -f "$PENDING/roles-before" ] || return 0
  while read -r url; do
    [ -n "$url" ] || continue
    until answers "$url"; do
      [ "$(date +%s)" -ge "$deadline" ] && {
        silent=$url
        return 1
      }
      sleep 1
    done
  done <"$PENDING/roles-before"
}

sshd_accepts_config() {
  sshd -t -f "$SSHD_CONFIG" >/dev/null 2>&1 || return 1
  return 0
}

# A decommission switches detached from the session that asked for it: what is confirmed is
# the host as given back, so wait for that switch to be done (it fails if the switch failed).
switched() {
  [ "$(cat "$PENDING/mode")" = decommission ] || return 0
  while [ ! -f "$PENDING/switched" ]; do
    [ "$(date +%s)" -ge "$deadline" ] && return 1
    sleep 1
  done
}

switched || fail "check failed: the host was not given back (see $STATE/rollback.log); it goes back on the mesh by $(cat "$PENDING/deadline")"
if ! wg_proven; then
  who=${HANDSHAKE_PEER:-any peer}
  fail "check failed: no WireGuard handshake with $who since the switch; the node restores its previous configuration by $(cat "$PENDING/deadline")"
fi
sshd_accepts_config || fail "check failed: sshd does not accept its configuration; the node restores its previous configuration by $(cat "$PENDING/deadline")"
silent=""
roles_up || fail "check failed: $silent answered before the switch and does not now; the node restores its previous configuration by $(cat "$PENDING/deadline")"

# Disarm first, then commit: a failure past this point leaves the new configuration running.
if [ -f "$PENDING/sleeper" ]; then
  kill "$(cat "$PENDING/sleeper")" 2>/dev/null || true
elif [ "$(init_system)" = systemd ]; then
  # Under the lock no rollback is running: a service the timer started waits for the lock.
  systemctl stop "clawd-mesh-rollback-$token.timer" "clawd-mesh-rollback-$token.service" 2>/dev/null || true
fi
if [ "$(cat "$PENDING/kind")" = nixos ]; then
  # The tree apply built and tested from: the boot entry is the system that was confirmed.
  nixos_rebuild switch "$(cat "$PENDING/nixpkgs")" >/dev/null 9>&-
fi
case $(cat "$PENDING/mode") in
  bootstrap | normal)
    # What first contact found, kept for the day the host leaves the mesh; a file a later
    # push writes first is added as it was before that push.
    if [ -d "$STATE/original" ]; then
      snapshot_add "$PENDING/previous" "$STATE/original"
    elif [ "$(cat "$PENDING/mode")" = bootstrap ]; then
      cp -Rp "$PENDING/previous" "$STATE/original"
    fi
    ;;
  decommission)
    # The owner's way in works: the receiver and its sudo rule go too, the owner's grants return.
    restore_access "$STATE/original"
    rm -rf "$STATE/original" "$INSTALLED"
    date +%s >"$STATE/decommissioned"
    ;;
esac
# What a drift check compares the node with later; a failure here keeps the confirmation.
if [ "$(cat "$PENDING/mode")" != decommission ]; then
  record_installed "$PENDING/bundle.sha256" "$PENDING" || log "could not record the confirmed state in $INSTALLED"
fi
rm -rf "$PENDING"
echo "clawd-mesh: confirmed $token"
