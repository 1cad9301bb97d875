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
case ${1:-apply} in
  kubeconfig)
    # The k3s server's admin kubeconfig, read back by the program as a secret.
    exec cat /etc/rancher/k3s/k3s.yaml
    ;;
  apply) ;;
  *)
    echo "clawd-mesh-receive: unknown command $1 (apply, kubeconfig)" >&2
    exit 2
    ;;
esac
state=/var/lib/clawd-mesh
mkdir -p "$state"
chmod 700 "$state"
work=$(mktemp -d "$state/push.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
base64 -d | tar -x -f - -C "$work"
sh "$work/scripts/apply.sh" "$work" "$@"
