// The command a push runs on a node over SSH, with the push archive on stdin. It is the same
// text for every node and run, so it carries nothing secret and never changes a diff. Once the
// receiver is installed, the admin user runs it through sudo (the only thing it may run as
// root); on first contact, as root or with the provider's initial sudo, the archive's own copy
// runs instead.
export const PUSH_COMMAND = `set -eu
if [ "$(id -u)" -eq 0 ]; then run=; else run="sudo -n"; fi
for r in /run/current-system/sw/bin/clawd-mesh-receive /usr/local/sbin/clawd-mesh-receive; do
  # shellcheck disable=SC2086 # $run is empty or "sudo -n"
  if [ -x "$r" ]; then exec $run "$r" apply; fi
done
t=$(mktemp)
trap 'rm -f "$t" "$t.r"' EXIT
cat >"$t"
base64 -d <"$t" | tar -x -O -f - scripts/receive.sh >"$t.r"
# shellcheck disable=SC2086
$run sh "$t.r" apply <"$t"
`;

/** Reads a k3s server's kubeconfig through the receiver (the admin's only sudo command). */
export const KUBECONFIG_COMMAND = `set -eu
if [ "$(id -u)" -eq 0 ]; then run=; else run="sudo -n"; fi
for r in /run/current-system/sw/bin/clawd-mesh-receive /usr/local/sbin/clawd-mesh-receive; do
  # shellcheck disable=SC2086 # $run is empty or "sudo -n"
  if [ -x "$r" ]; then exec $run "$r" kubeconfig; fi
done
echo "clawd-mesh-receive is not installed on this node" >&2
exit 1
`;
