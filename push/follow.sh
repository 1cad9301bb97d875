#!/bin/sh
# follow.sh ADDRESS SECONDS NEW PREVIOUS MODE — run by `clawd-mesh-receive wg-follow` on a node
# that holds a rotating peer (core/plan/rotation.ts). While following, the peer's addresses
# belong to whichever of its two keys completed a handshake last, so this node reaches the peer
# on the key it holds, before and after its switch. Runs detached: the push goes on meanwhile.
# MODE says which key this node's configuration names:
# - behind: NEW (this node was pushed first; the node it reaches the peer through). PREVIOUS is
#   added back until NEW has a handshake, or for SECONDS; then this node's own configuration is
#   in force again, so nothing of the follow outlives the push.
# - ahead: PREVIOUS (the peer is the hub, or a full mesh's entry node, pushed before the nodes
#   that hold it; "the hub" below). NEW is added beside it, with no addresses, and tried until
#   the hub answers on it. The follow lasts until
#   this node's own push (apply.sh stops it: its configuration names NEW) or SECONDS, whichever
#   comes first, so that a hub whose switch is not confirmed, and goes back to PREVIOUS, is
#   followed back too. Then the key that completed a handshake last keeps the addresses, and
#   the other goes.
# Handshakes count from the follow's own start, to the second: WireGuard stamps them in whole
# seconds, and one in the very second the follow started (a key it made anew answering at
# once) is as good as a later one.
set -u
address=$1
seconds=$2
new=$3
previous=$4
mode=$5
# shellcheck source=push/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=/dev/null
. "$(dirname "$0")/node.env"

# The latest handshake of a key, 0 for none (or for a key that is no peer here).
latest() {
  wg show "$WG_INTERFACE" latest-handshakes | awk -v k="$1" '$1 == k { v = $2 } END { print v + 0 }'
}
give() {
  wg set "$WG_INTERFACE" peer "$1" allowed-ips "$ips"
  owner=$1
}
if [ "$mode" = ahead ]; then configured=$previous; else configured=$new; fi
# Every address the peer holds (its mesh address, what the hub forwards to it; on a spoke, the
# whole mesh), and how often this node keeps its tunnel to it alive.
ips=$(wg show "$WG_INTERFACE" allowed-ips | awk -v k="$configured" '$1 == k { $1 = ""; print }' |
  tr -s ' ' '\n' | grep -v '^$' | paste -sd, -)
keepalive=$(wg show "$WG_INTERFACE" persistent-keepalive | awk -v k="$configured" '$1 == k { print $2 }')
# Where the peer was last seen on its old key (recorded by apply.sh before this node's own
# push dropped that key), else where the configuration says: this node can then start the
# handshake with the key it does not name itself, also with a peer behind NAT.
seen() {
  awk -v k="$1" '$1 == k && $2 != "(none)" { print $2 }'
}
endpoint=
[ "$mode" = behind ] && [ -f "$STATE/endpoints" ] && endpoint=$(seen "$previous" <"$STATE/endpoints")
[ -n "$endpoint" ] || endpoint=$(wg show "$WG_INTERFACE" endpoints | seen "$configured")

# One follow per address: a later one (the push asked again) takes over from an earlier one.
mkdir -p "$STATE/follow"
pidfile=$STATE/follow/$address
echo $$ >"$pidfile"
started=$(date +%s)

# behind: this node's own configuration back in force: the old key goes, NEW keeps the
# addresses. Undone step by step rather than reloaded from a file: NixOS keeps no wg-quick file.
# ahead: the key that answered last keeps the addresses (and the keepalive the configuration
# gave the peer); the other goes.
finish() {
  if [ "$mode" = behind ]; then
    wg set "$WG_INTERFACE" peer "$previous" remove 2>/dev/null || true
    [ -n "$ips" ] && wg set "$WG_INTERFACE" peer "$new" allowed-ips "$ips"
  else
    # A stop may come between an attempt's removal of a key and its return: it is made again.
    kept=$previous
    gone=$new
    if [ "$(latest "$new")" -ge "$started" ] && [ "$(latest "$new")" -ge "$(latest "$previous")" ]; then
      kept=$new
      gone=$previous
    fi
    [ -n "$endpoint" ] && wg set "$WG_INTERFACE" peer "$kept" endpoint "$endpoint"
    [ -n "$ips" ] && wg set "$WG_INTERFACE" peer "$kept" allowed-ips "$ips"
    wg set "$WG_INTERFACE" peer "$kept" persistent-keepalive "${keepalive:-off}"
    wg set "$WG_INTERFACE" peer "$gone" remove 2>/dev/null || true
  fi
  [ "$(cat "$pidfile" 2>/dev/null)" = $$ ] && rm -f "$pidfile"
}

if [ "$mode" = ahead ]; then
  trap finish EXIT
  trap 'exit 1' INT TERM HUP
  # The key that does not hold the addresses is tried every 15 s: made anew, with no session,
  # and with a keepalive, which starts a handshake at once (the kernel and wireguard-go both
  # send one when a peer's keepalive goes on; WireGuard itself retries a handshake for 90 s,
  # then gives up). Before the hub's switch that is NEW, which it drops (the attempts are made
  # out to a key it does not hold yet). After it, PREVIOUS: a hub whose switch is not
  # confirmed goes back to it, and, having lost every session at its switch, sends nothing
  # by itself; an old session on PREVIOUS would carry only keepalives, which start no
  # handshake. Made anew, PREVIOUS answers within 15 s of the hub's return.
  attempt() {
    wg set "$WG_INTERFACE" peer "$1" remove 2>/dev/null || true
    if [ -n "$endpoint" ]; then
      wg set "$WG_INTERFACE" peer "$1" endpoint "$endpoint" persistent-keepalive 25
    else
      wg set "$WG_INTERFACE" peer "$1" persistent-keepalive 25
    fi
  }
  owner=$previous
  next=0
  while [ "$(date +%s)" -lt $((started + seconds)) ]; do
    now=$(date +%s)
    seen_new=$(latest "$new")
    if [ "$seen_new" -ge "$started" ] && [ "$seen_new" -ge "$(latest "$previous")" ]; then
      want=$new
    else
      want=$previous
    fi
    if [ "$owner" != "$want" ]; then
      give "$want"
      next=0
    fi
    if [ "$now" -ge "$next" ]; then
      if [ "$owner" = "$new" ]; then attempt "$previous"; else attempt "$new"; fi
      next=$((now + 15))
    fi
    sleep 0.5
  done
  echo "wg-follow: $address was followed ahead for $seconds s without this node's own push" >&2
  exit 0
fi

trap finish EXIT
trap 'exit 1' INT TERM HUP
# Alive on its new key already (a handshake within WireGuard's session lifetime, 180 s): the
# peer has switched, and nothing must be followed.
[ $((started - $(latest "$new"))) -le 180 ] && exit 0
if [ -n "$endpoint" ]; then
  wg set "$WG_INTERFACE" peer "$previous" endpoint "$endpoint"
else
  wg set "$WG_INTERFACE" peer "$previous"
fi
give "$previous"
flip=$((started + 6))
while [ "$(date +%s)" -lt $((started + seconds)) ]; do
  now=$(date +%s)
  seen_new=$(latest "$new")
  seen_previous=$(latest "$previous")
  if [ "$seen_new" -ge "$started" ] && [ "$seen_new" -ge "$seen_previous" ]; then
    exit 0
  fi
  if [ "$seen_previous" -eq 0 ] && [ "$now" -ge "$flip" ]; then
    # Neither key has answered: whichever holds the addresses, this node's own traffic to the
    # peer starts a handshake with it; try the other one after WireGuard's retry (5 s).
    if [ "$owner" = "$previous" ]; then give "$new"; else give "$previous"; fi
    flip=$((now + 6))
  elif [ "$seen_previous" -gt 0 ] && [ "$owner" != "$previous" ]; then
    give "$previous"
  fi
  sleep 0.5
done
echo "wg-follow: $address did not complete a handshake on its new key within $seconds s" >&2
