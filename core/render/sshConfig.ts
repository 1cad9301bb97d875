// The operator's ~/.ssh/config (seed 000 §4.1): nodes with public SSH directly, every other
// node on its mesh address through the entry node, or directly when the operator is itself a
// WireGuard peer and there is no entry node.
import type { Fleet } from "../spec/fleet";
import type { FleetPlan } from "../plan/model";
import { managementRoute } from "../plan/route";

export function renderSshConfig(fleet: Fleet, plan: FleetPlan): string {
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
      `    StrictHostKeyChecking accept-new`,
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
