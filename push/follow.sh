#!/bin/sh
# follow.sh ADDRESS SECONDS NEW PREVIOUS — run by `clawd-mesh-receive wg-follow` on the node
# through which the operator reaches a node whose WireGuard key is being rotated
# (core/plan/rotation.ts). This node's configuration already names the peer's NEW key; the
# peer may still hold PREVIOUS until its own push switches it. While following, the peer's
# addresses belong to whichever of the two keys completed a handshake last: the push reaches
# the peer on its old key, and again on its new one once it has switched. It ends when NEW has
# a handshake, or after SECONDS, and always by putting this node's own configuration back in
# force, so nothing of it outlives the push. Runs detached: the push goes on meanwhile.
set -u
address=$1
seconds=$2
new=$3
previous=$4
# shellcheck source=push/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=/dev/null
. "$(dirname "$0")/node.env"

latest() {
  wg show "$WG_INTERFACE" latest-handshakes | awk -v k="$1" '$1 == k { print $2 }'
}

# This node's own configuration back in force: the old key goes, NEW keeps the addresses.
# Undone step by step rather than reloaded from a file: NixOS keeps no wg-quick file.
restore() {
  wg set "$WG_INTERFACE" peer "$previous" remove 2>/dev/null || true
  [ -n "$ips" ] && wg set "$WG_INTERFACE" peer "$new" allowed-ips "$ips"
}
# Every address the peer holds (its mesh address, and what the hub forwards to it).
ips=$(wg show "$WG_INTERFACE" allowed-ips | awk -v k="$new" '$1 == k { $1 = ""; print }' |
  tr -s ' ' '\n' | grep -v '^$' | paste -sd, -)
trap restore EXIT
trap 'exit 1' INT TERM HUP
give() {
  wg set "$WG_INTERFACE" peer "$1" allowed-ips "$ips"
  owner=$1
}

# Where the peer was last seen on its old key (recorded by apply.sh before this node's own
# push dropped that key), else where the configuration says: this node can then start the
# handshake with the old key itself, also with a peer behind NAT.
seen() {
  awk -v k="$1" '$1 == k && $2 != "(none)" { print $2 }'
}
endpoint=
[ -f "$STATE/endpoints" ] && endpoint=$(seen "$previous" <"$STATE/endpoints")
[ -n "$endpoint" ] || endpoint=$(wg show "$WG_INTERFACE" endpoints | seen "$new")

started=$(date +%s)
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
  if [ "$seen_new" -gt "$started" ] && [ "$seen_new" -ge "$seen_previous" ]; then
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
