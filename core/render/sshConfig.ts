// The operator's ~/.ssh/config (seed 000 §4.1): nodes with public SSH directly, every other
// node on its mesh address through the entry node, or directly when the operator is itself a
// WireGuard peer and there is no entry node.
import type { Fleet } from "../fleet/fleet";
import type { FleetPlan } from "../plan/model";
import { managementRoute } from "../plan/route";

/**
 * `accept-new` for an operator's machine, which learns each host key on first use; `yes` for a
 * machine that pushes, which is handed the pinned keys and must refuse any other.
 */
export type HostKeyChecking = "accept-new" | "yes";

export function renderSshConfig(
  fleet: Fleet,
  plan: FleetPlan,
  hostKeyChecking: HostKeyChecking = "accept-new",
): string {
  const entries = plan.nodes.filter((n) => n.roles.includes("entry"));
  // Entry nodes first: the others name them in ProxyJump.
  const ordered = [...entries, ...plan.nodes.filter((n) => !n.roles.includes("entry"))];
  const blocks = ordered.map((node) => {
    const spec = fleet.nodes.find((n) => n.name === node.name);
    const route = spec ? managementRoute(fleet, spec) : { via: "mesh" as const };
    return [
      `Host ${node.name}`,
      `    HostName ${route.via === "public" ? node.publicIp : node.meshIp}`,
      `    User ${fleet.ssh.adminUser}`,
      ...(fleet.ssh.port !== 22 ? [`    Port ${fleet.ssh.port}`] : []),
      ...(route.via === "mesh" && route.jump ? [`    ProxyJump ${route.jump}`] : []),
      `    IdentityFile ${fleet.ssh.identityFile}`,
      `    IdentitiesOnly yes`,
      `    StrictHostKeyChecking ${hostKeyChecking}`,
    ].join("\n");
  });
  return [
    `# SSH client entries for mesh ${fleet.mesh.name}, written by clawd-mesh.`,
    `# Include it from ~/.ssh/config:  Include ~/.ssh/${fleet.mesh.name}.config`,
    "",
    blocks.join("\n\n"),
    "",
  ].join("\n");
}

/**
 * What a machine that pushes needs on top of the operator's entries: its key, the pinned host
 * keys, and a connection per command (no sharing, so a confirmation never rides an old one).
 */
export function pinnedSshDefaults(options: {
  readonly port: number;
  readonly identityFile?: string;
  readonly knownHostsFile: string;
}): string {
  return [
    "Host *",
    `    Port ${options.port}`,
    ...(options.identityFile
      ? [`    IdentityFile ${options.identityFile}`, "    IdentitiesOnly yes"]
      : []),
    `    UserKnownHostsFile ${options.knownHostsFile}`,
    "    StrictHostKeyChecking yes",
    "    BatchMode yes",
    "    ControlMaster no",
    "    ControlPath none",
    "    ConnectTimeout 4",
    "    ServerAliveInterval 5",
    "    ServerAliveCountMax 2",
    "    LogLevel ERROR",
    "",
  ].join("\n");
}

/** known_hosts lines: every address a node is reached at, with its host key. */
export function renderKnownHosts(
  port: number,
  hosts: readonly { readonly addresses: readonly string[]; readonly hostKey: string }[],
): string {
  const name = (ip: string) => (port === 22 ? ip : `[${ip}]:${port}`);
  return hosts
    .flatMap((h) => h.addresses.map((ip) => `${name(ip)} ${h.hostKey}`))
    .join("\n")
    .concat("\n");
}
