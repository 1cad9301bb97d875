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
case ${1:-apply} in
  kubeconfig)
    # The k3s server's admin kubeconfig, read back by the program as a secret.
    exec cat /etc/rancher/k3s/k3s.yaml
    ;;
  confirm)
    # Keeps a switched configuration; the scripts are the ones the push brought.
    token=${2:?confirm needs the push token}
    if [ ! -x "$state/pending/scripts/confirm.sh" ]; then
      if [ -f "$state/rolled-back/$token" ]; then
        echo "clawd-mesh-receive: push $token was already rolled back: confirmation came too late" >&2
      else
        echo "clawd-mesh-receive: no push is waiting for confirmation" >&2
      fi
      exit 1
    fi
    exec "$state/pending/scripts/confirm.sh" "$token"
    ;;
  vault-install | vault-revert)
    # A new vault binary, checked against its sha256 before it replaces the running one.
    command=${1#vault-}
    shift
    exec sh /usr/local/lib/clawd-mesh/vault.sh "$command" "$@"
    ;;
  apply) ;;
  *)
    echo "clawd-mesh-receive: unknown command $1 (apply, confirm, kubeconfig, vault-install, vault-revert)" >&2
    exit 2
    ;;
esac
mkdir -p "$state"
chmod 700 "$state"
work=$(mktemp -d "$state/push.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
base64 -d | tar -x -f - -C "$work"
[ $# -gt 0 ] && shift
sh "$work/scripts/apply.sh" "$work" "$@"
