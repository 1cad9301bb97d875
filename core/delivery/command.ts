// The commands a push runs on a node over SSH. They are fixed text (no secret ever rides on
// a command line); the archive travels on stdin. Once the receiver is installed, the admin
// user runs it through sudo — the only thing it may run as root; on first contact, as root
// or with the provider's initial sudo, the archive's own copy runs instead.

import { WG_KEY } from "../fleet/checkAccess";
import { isIpv4 } from "../net/ipv4";
import { NIXOS_RECEIVER, RECEIVER } from "../plan/files";

/**
 * The vault rollout, run on the operator's machine by a local Command in the project folder
 * (its working directory, as for the push's own command). Relative: an absolute path made the
 * Command's text, and so the rollout, change whenever the project was checked out elsewhere.
 */
export const ROLLOUT_SCRIPT = "push/rollout.sh";

/** Seconds a switched node waits for confirmation before it rolls back by itself. */
export const DEFAULT_ROLLBACK_WINDOW = 120;

const RUN_AS_ROOT = `if [ "$(id -u)" -eq 0 ]; then run=; else run="sudo -n"; fi`;
/** Wherever the node's OS keeps the receiver: the operator's side does not know the OS. */
export const RECEIVERS = `${NIXOS_RECEIVER} ${RECEIVER}`;

export interface PushOptions {
  /** First contact over the public address: public SSH stays open until the mesh is proven. */
  readonly bootstrap?: boolean;
  /** A leaving host: put back as first contact found it, confirmed the way it came in. */
  readonly decommission?: boolean;
  readonly windowSeconds?: number;
  /** The sha256 of the archive's tar bytes (archiveDigest): checked before anything is unpacked. */
  readonly archiveSha256: string;
}

export function pushCommand(options: PushOptions): string {
  const window = options.windowSeconds ?? DEFAULT_ROLLBACK_WINDOW;
  if (!Number.isInteger(window) || window < 20 || window > 3600) {
    throw new Error(`rollback window ${window} s is out of range: use 20 to 3600 seconds`);
  }
  if (!/^[0-9a-f]{64}$/.test(options.archiveSha256)) {
    throw new Error(`"${options.archiveSha256}" is not the archive's sha256 (64 hex digits)`);
  }
  const mode = options.bootstrap ? " --bootstrap" : options.decommission ? " --decommission" : "";
  const args = `apply${mode} --window ${window} --sha256 ${options.archiveSha256}`;
  // First contact, before a receiver is installed: the archive's own receive.sh runs, as root,
  // from a directory mktemp makes for root alone (mode 0700), and only once the archive has
  // proven whole. Nothing is ever written to a name another user could have planted.
  return `set -eu
${RUN_AS_ROOT}
for r in ${RECEIVERS}; do
  # shellcheck disable=SC2086 # $run is empty or "sudo -n"
  if [ -x "$r" ]; then exec $run "$r" ${args}; fi
done
# shellcheck disable=SC2016,SC2086 # the inner shell expands its own; $run is empty or "sudo -n"
exec $run sh -c '
set -eu
umask 077
d=$(mktemp -d)
clean() { rm -rf "$d"; }
trap clean EXIT
cat >"$d/in"
base64 -d <"$d/in" >"$d/archive.tar"
got=$(sha256sum "$d/archive.tar" | cut -d" " -f1)
if [ "$got" != "$1" ]; then
  echo "clawd-mesh: the archive that arrived ($(wc -c <"$d/archive.tar") bytes, sha256 $got) is not the one sent (sha256 $1): it was cut short or changed on the way, and nothing was unpacked. Fix: run the push again" >&2
  exit 1
fi
tar -x -O -f "$d/archive.tar" scripts/receive.sh >"$d/receive.sh"
shift
sh "$d/receive.sh" "$@" <"$d/in"
' sh ${options.archiveSha256} ${args}
`;
}

/** One of the receiver's commands (fixed words), as root, wherever the node's OS keeps it. */
function throughReceiver(args: string): string {
  return `set -eu
${RUN_AS_ROOT}
for r in ${RECEIVERS}; do
  # shellcheck disable=SC2086 # $run is empty or "sudo -n"
  if [ -x "$r" ]; then exec $run "$r" ${args}; fi
done
echo "clawd-mesh-receive is not installed on this node" >&2
exit 1
`;
}

/** Confirms a push by its token; run over a connection of its own. */
export function confirmCommand(token: string): string {
  if (!/^\d+-\d+$/.test(token)) throw new Error(`"${token}" is not a push token`);
  return throughReceiver(`confirm ${token}`);
}

/**
 * Has a node that holds a rotating node as its peer follow it from its previous key to its new
 * one (core/plan/rotation.ts), for at most `seconds`; returns at once. `ahead`: the follower's
 * configuration still names the previous key (the rotating node is its hub, or a full mesh's
 * entry node).
 */
export function followCommand(follow: {
  readonly address: string;
  readonly seconds: number;
  readonly key: string;
  readonly previousKey: string;
  readonly ahead?: boolean;
}): string {
  const { address, seconds, key, previousKey } = follow;
  if (!isIpv4(address)) throw new Error(`"${address}" is not an IPv4 address`);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 9999) {
    throw new Error(`a follow of ${seconds} s is out of range: use 1 to 9999 seconds`);
  }
  for (const k of [key, previousKey]) {
    if (!WG_KEY.test(k)) throw new Error(`"${k}" is not a WireGuard public key`);
  }
  const ahead = follow.ahead ? " ahead" : "";
  return throughReceiver(`wg-follow ${address} ${seconds} ${key} ${previousKey}${ahead}`);
}

/** Reads a k3s server's kubeconfig through the receiver. */
export const KUBECONFIG_COMMAND = throughReceiver("kubeconfig");

/**
 * Has a machine that is being replaced leave the mesh (core/delivery/retire.ts); it answers
 * first and leaves a second later, detached, since the answer travels the mesh too.
 */
export const RETIRE_COMMAND_REMOTE = throughReceiver("retire");

/**
 * Lists the machine's network interfaces as its admin user may (`ip` is in /usr/sbin on some
 * systems): whether the WireGuard interface is still among them says whether it has left.
 * Asked over any route, the public one too, where a machine's SSH still answers after it left.
 */
export const INTERFACES_COMMAND = 'PATH="$PATH:/usr/sbin:/sbin" ip -o link show';

/** Whether `ip -o link show` output lists the interface ("3: wg0: <…>"). */
export function listsInterface(stdout: string, name: string): boolean {
  return stdout.split("\n").some((line) => line.split(": ")[1]?.split("@")[0] === name);
}

/** Reads a node's installed digest and live state through the receiver (read-only). */
export const STATE_COMMAND = throughReceiver("state");

export type ApplyOutcome =
  | { readonly kind: "armed"; readonly token: string; readonly activatedAt: number }
  | { readonly kind: "unchanged" };

/** What apply reported: "clawd-mesh: armed TOKEN ACTIVATED_AT", or "clawd-mesh: unchanged". */
export function applyOutcome(stdout: string): ApplyOutcome {
  if (/^clawd-mesh: unchanged$/m.test(stdout)) return { kind: "unchanged" };
  const m = /clawd-mesh: armed (\d+-\d+) (\d+)/.exec(stdout);
  if (!m) throw new Error(`the push did not report an armed rollback:\n${stdout}`);
  return { kind: "armed", token: m[1] as string, activatedAt: Number(m[2]) };
}

/** Confirms what apply reported; for an unchanged node, only proves the connection. */
export function confirmFor(outcome: ApplyOutcome): string {
  return outcome.kind === "armed" ? confirmCommand(outcome.token) : "true\n";
}
