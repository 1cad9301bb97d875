#!/bin/sh
# rollout.sh SSH_CONFIG SOURCE SHA256 NODE=HEALTH_URL...
# A new vault binary, one node at a time, in the order given: the node installs it (checking
# the sha256 first), then its health endpoint must answer over the mesh before the next node
# is touched. The first node that does not answer goes back to its previous binary, and the
# rollout stops there: the nodes after it keep the old binary.
#   SOURCE      an https URL (each node downloads it) or a file on this machine (sent over SSH)
#   HEALTH_VIA  an ssh_config host to send the health requests from (the entry node), when
#               this machine is not on the mesh itself
#   HEALTH_SECONDS  how long a node has to answer (default 30)
set -eu
cfg=$1
source=$2
sha=$3
shift 3

# One argument as text for the node's shell, which ssh hands every command to: in single
# quotes, each ' written as '\''. A URL may hold & ; $( ) (a presigned one does); quoted,
# the node's shell reads it as one word and runs nothing in it.
quote() {
  printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

# The receiver, as root: the admin's one sudo command, wherever the node's OS keeps it.
receiver() {
  args=
  for a in "$@"; do args="$args $(quote "$a")"; done
  # shellcheck disable=SC2016 # expanded on the node, not here
  printf 'for r in /run/current-system/sw/bin/clawd-mesh-receive /usr/local/sbin/clawd-mesh-receive; do if [ -x "$r" ]; then exec sudo -n "$r"%s; fi; done; exit 127' "$args"
}

healthy() {
  deadline=$(($(date +%s) + ${HEALTH_SECONDS:-30}))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    if [ -n "${HEALTH_VIA:-}" ]; then
      ssh -F "$cfg" "$HEALTH_VIA" "curl -fsS --max-time 3 -o /dev/null $(quote "$1")" 2>/dev/null && return 0
    else
      curl -fsS --max-time 3 -o /dev/null "$1" 2>/dev/null && return 0
    fi
    sleep 1
  done
  return 1
}

# install NODE: the binary, checked against its sha256 on the node; ssh's exit status.
install() {
  case $source in
    https://*) ssh -F "$cfg" "$1" "$(receiver vault-install "$source" "$sha")" ;;
    *) ssh -F "$cfg" "$1" "$(receiver vault-install - "$sha")" <"$source" ;;
  esac
}

remaining=$#
for entry in "$@"; do
  node=${entry%%=*}
  url=${entry#*=}
  remaining=$((remaining - 1))
  echo "rollout: $node: installing $sha"
  status=0
  install "$node" || status=$?
  if [ "$status" -eq 255 ]; then
    # ssh's own failure (the connection dropped or was not made), not the node's answer: the
    # install checks the sha256 and keeps a binary already in place, so asking again is safe.
    echo "rollout: $node: the connection failed (ssh exit 255); trying once more" >&2
    status=0
    install "$node" || status=$?
  fi
  if [ "$status" -ne 0 ]; then
    echo "rollout stopped at $node: the install was refused or failed; it keeps its binary; $remaining node(s) after it were not touched" >&2
    exit 1
  fi
  if healthy "$url"; then
    echo "rollout: $node: healthy at $url"
  else
    if ssh -F "$cfg" "$node" "$(receiver vault-revert)" >/dev/null; then
      back="it is back on its previous binary"
    else
      back="it could not go back (see above): it had no previous binary, or the revert failed"
    fi
    echo "rollout stopped at $node: no healthy answer from $url within ${HEALTH_SECONDS:-30} s; $back; $remaining node(s) after it keep the old binary" >&2
    exit 1
  fi
done
echo "rollout: done"
