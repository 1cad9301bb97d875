#!/bin/sh
# clawd-mesh-receive: the one command the admin user may run with sudo. It reads a push
# archive (base64 tar) on stdin into a root-only directory and runs the apply script the
# archive carries. Whoever may run it can change the node: the management path is root-
# equivalent by design, and reaching it takes the mesh and the admin's key.
set -eu
umask 077
if [ "$(id -u)" -ne 0 ]; then
  echo "clawd-mesh-receive: must run as root (sudo -n clawd-mesh-receive)" >&2
  exit 1
fi
state=/var/lib/clawd-mesh

# Loads the facts and functions the last confirmed push installed (lib.sh record_installed),
# once it is sure they are there, with the other installed scripts named: a command that needs
# them has nothing to act on before a push of this version was confirmed.
load_installed() {
  installed=$state/installed/scripts
  for f in lib.sh node.env "$@"; do
    if [ ! -f "$installed/$f" ]; then
      echo "clawd-mesh-receive: no push was confirmed on this node by this version of clawd-mesh; push once, then ask again" >&2
      exit 1
    fi
  done
  # shellcheck source=/dev/null
  . "$installed/node.env"
  # shellcheck source=push/lib.sh
  . "$installed/lib.sh"
}

case ${1:-apply} in
  kubeconfig)
    # The k3s server's admin kubeconfig, read back by the program as a secret.
    exec cat /etc/rancher/k3s/k3s.yaml
    ;;
  confirm)
    # Keeps a switched configuration; the scripts are the ones the push brought.
    token=${2:?confirm needs the push token}
    if [ ! -x "$state/pending/scripts/confirm.sh" ]; then
      if grep -qx "by=boot" "$state/rolled-back/$token" 2>/dev/null; then
        echo "clawd-mesh-receive: push $token was rolled back when the node restarted before it was confirmed; run up again to push it anew" >&2
      elif [ -f "$state/rolled-back/$token" ]; then
        echo "clawd-mesh-receive: push $token was already rolled back: confirmation came too late" >&2
      else
        echo "clawd-mesh-receive: no push is waiting for confirmation" >&2
      fi
      exit 1
    fi
    exec "$state/pending/scripts/confirm.sh" "$token"
    ;;
  state)
    # Read-only, for a drift check: the digest of the last confirmed push's bundle, the live
    # state recorded when it was confirmed, and the live state now. Nothing secret is printed.
    load_installed
    echo "clawd-mesh-state 1"
    echo "digest $(cat "$INSTALLED/bundle.sha256" 2>/dev/null || echo none)"
    [ -f "$PENDING/token" ] && echo "pending $(cat "$PENDING/token")"
    echo "### recorded"
    cat "$INSTALLED/live" 2>/dev/null || true
    echo "### live"
    live_state
    exit 0
    ;;
  wg-follow)
    # wg-follow ADDRESS SECONDS NEW PREVIOUS [ahead]: while the peer at ADDRESS moves from its
    # PREVIOUS WireGuard key to NEW, its addresses follow the key it answers on; detached, for
    # at most SECONDS (follow.sh). This node's configuration names NEW already, or, with
    # "ahead" (the peer is the hub or a full mesh's entry node, pushed before this node), still
    # PREVIOUS.
    key='^[A-Za-z0-9+/]\{42\}[AEIMQUYcgkosw048]=$'
    case ${6:-} in "" | ahead) last=ok ;; *) last=bad ;; esac
    if ! printf '%s\n' "${2:-}" | grep -q '^[0-9]\{1,3\}\(\.[0-9]\{1,3\}\)\{3\}$' ||
      ! printf '%s\n' "${3:-}" | grep -q '^[1-9][0-9]\{0,3\}$' ||
      ! printf '%s\n' "${4:-}" | grep -q "$key" || ! printf '%s\n' "${5:-}" | grep -q "$key" ||
      [ "$last" = bad ] || [ $# -gt 6 ]; then
      echo "clawd-mesh-receive: wg-follow needs an IPv4 address, seconds (1-9999), two WireGuard public keys and, ahead of a hub or entry node, the word ahead" >&2
      exit 2
    fi
    load_installed follow.sh
    # The key WireGuard sends ADDRESS to: the peer whose allowed IPs hold it most narrowly (a
    # spoke gives the hub the whole mesh).
    holder=$(wg show "$WG_INTERFACE" allowed-ips | awk -v a="$2" '
      function num(ip, p) { split(ip, p, "."); return ((p[1] * 256 + p[2]) * 256 + p[3]) * 256 + p[4] }
      { for (i = 2; i <= NF; i++) {
          if ($i !~ /^[0-9.]+\/[0-9]+$/) continue
          split($i, c, "/")
          size = 2 ^ (32 - c[2])
          if (c[2] + 0 > best && int(num(c[1]) / size) == int(num(a) / size)) { best = c[2] + 0; k = $1 }
      } }
      END { print k }')
    mode=behind
    if [ "${6:-}" = ahead ]; then
      mode=ahead
      if [ "$holder" = "$4" ]; then
        echo "clawd-mesh: $2 is followed already: its new key holds it here"
        exit 0
      fi
      want=$5
    else
      want=$4
    fi
    # The same follow running already: this node kept the peer on its previous key from its
    # own switch (apply.sh keep_rotated), and it holds the address meanwhile.
    if [ "$mode" = behind ]; then
      case $(follow_args "$state/follow/$2") in
        "$2 "*" $4 $5 behind")
          echo "clawd-mesh: $2 is followed already: this node keeps its previous key until it answers on the new one"
          exit 0
          ;;
      esac
    fi
    if [ "$holder" != "$want" ]; then
      echo "clawd-mesh-receive: this node's WireGuard does not give $2 to the key $want: push this node first" >&2
      exit 1
    fi
    # A follow of this address still running (the push asked again) ends first: it leaves the
    # key that answered last in place, which this one starts from.
    stop_follows all "$2"
    setsid sh "$installed/follow.sh" "$2" "$3" "$4" "$5" "$mode" </dev/null >>"$state/follow.log" 2>&1 &
    echo "clawd-mesh: following $2"
    exit 0
    ;;
  retire)
    # This machine is being replaced by one that takes its WireGuard key and mesh address: it
    # leaves the mesh before the new one joins, or the nodes holding it as a peer would send
    # its traffic to whichever of the two spoke last (operator/retire.ts). It answers first and
    # leaves a second later, detached: the answer travels the mesh too. The leaving waits for
    # the lock, so it never cuts into an apply or a rollback.
    load_installed
    # shellcheck disable=SC2016 # the inner shell expands its own arguments
    leave='exec >>"$3" 2>&1; sleep 1; . "$1"; . "$2"; take_lock; leave_mesh'
    if [ "$(init_system)" = systemd ]; then
      # A unit of its own: it outlives this SSH session even where logind ends a session's
      # processes with it.
      systemd-run --quiet --collect sh -c "$leave" retire "$installed/node.env" "$installed/lib.sh" "$state/retire.log"
    else
      setsid sh -c "$leave" retire "$installed/node.env" "$installed/lib.sh" "$state/retire.log" </dev/null >/dev/null 2>&1 &
    fi
    echo "clawd-mesh: leaving the mesh"
    exit 0
    ;;
  vault-install | vault-revert)
    # A new vault binary, checked against its sha256 before it replaces the running one.
    command=${1#vault-}
    shift
    [ -f "$state/installed/scripts/vault.sh" ] || {
      echo "clawd-mesh-receive: no push was confirmed on this node by this version of clawd-mesh; push once, then ask again" >&2
      exit 1
    }
    exec sh "$state/installed/scripts/vault.sh" "$command" "$@"
    ;;
  apply) ;;
  *)
    echo "clawd-mesh-receive: unknown command $1 (apply, confirm, state, kubeconfig, wg-follow, retire, vault-install, vault-revert)" >&2
    exit 2
    ;;
esac
[ $# -gt 0 ] && shift
# The sender's sha256 of the archive: a stream cut short at a tar member's boundary is a
# valid, smaller archive, so only the digest can tell, and it is checked before any unpacking.
want=
previous=
for a in "$@"; do
  [ "$previous" = --sha256 ] && want=$a
  previous=$a
done
case $want in
  *[!0-9a-f]* | "")
    echo "clawd-mesh-receive: apply needs --sha256 and the archive's 64-hex sha256, not \"$want\": an archive nobody vouched for is not unpacked. Fix: push with the clawd-mesh version that installed this receiver or newer" >&2
    exit 2
    ;;
esac
mkdir -p "$state"
chmod 700 "$state"
work=$(mktemp -d "$state/push.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
base64 -d >"$work/archive.tar" || {
  echo "clawd-mesh-receive: the archive on stdin is not base64; nothing was unpacked. Fix: run the push again" >&2
  exit 1
}
got=$(sha256sum "$work/archive.tar" | cut -d' ' -f1)
if [ "$got" != "$want" ] || [ ${#want} -ne 64 ]; then
  echo "clawd-mesh-receive: the archive that arrived ($(wc -c <"$work/archive.tar") bytes, sha256 $got) is not the one sent (sha256 $want): it was cut short or changed on the way, and nothing was unpacked. Fix: run the push again" >&2
  exit 1
fi
tar -x -f "$work/archive.tar" -C "$work"
rm -f "$work/archive.tar"
sh "$work/scripts/apply.sh" "$work" "$@"
