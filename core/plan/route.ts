// How an operator reaches a node's sshd: on its public address when the node has public SSH,
// otherwise on its mesh address — through the entry node when there is one, or directly when
// the operator is itself on the mesh. ssh_config and the program's connections both use this.
import { publicSsh, type Fleet, type FleetNode } from "../fleet/fleet";
import { hubOf } from "./wireguard";

export type Route = { readonly via: "public" } | { readonly via: "mesh"; readonly jump?: string };

/**
 * The nodes an operator's connection to `node` passes through: the entry node it jumps from,
 * and in hub-spoke the hub that forwards to it over the mesh. A push waits for theirs, so the
 * nodes on the way already know about a newcomer when it is pushed.
 */
export function pathNodes(fleet: Fleet, node: FleetNode): string[] {
  const route = managementRoute(fleet, node);
  if (route.via === "public") return [];
  const hub =
    fleet.mesh.topology === "hub-spoke"
      ? fleet.nodes.find((n) => n.roles.includes("hub"))
      : undefined;
  return [...new Set([route.jump, hub?.name])].filter(
    (n): n is string => n !== undefined && n !== node.name,
  );
}

/**
 * The nodes an ssh_config must hold for ssh to reach `names`: each of them, and the entry
 * nodes their ProxyJump lines name, and theirs in turn.
 */
export function nodesDialed(fleet: Fleet, names: readonly string[]): Set<string> {
  const dialed = new Set<string>();
  const queue = [...names];
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    if (dialed.has(name)) continue;
    dialed.add(name);
    const spec = fleet.nodes.find((n) => n.name === name);
    const route = spec ? managementRoute(fleet, spec) : undefined;
    if (route?.via === "mesh" && route.jump) queue.push(route.jump);
  }
  return dialed;
}

/**
 * The nodes whose keys and addresses a node's bundle and connections read: itself, its
 * WireGuard peers (a spoke: the hub; otherwise every node) and the nodes on its management
 * path. Its push reads no others, so a node added elsewhere leaves it known in a preview.
 */
export function nodesReadBy(fleet: Fleet, node: FleetNode): string[] {
  const hub = hubOf(fleet);
  const peers = hub && hub.name !== node.name ? [hub.name] : fleet.nodes.map((n) => n.name);
  return [...new Set([node.name, ...peers, ...pathNodes(fleet, node)])].sort();
}

export function managementRoute(fleet: Fleet, node: FleetNode): Route {
  if (publicSsh(node, fleet.ssh.port) && node.address.kind !== "nat") return { via: "public" };
  const entry = fleet.nodes.find((n) => n.roles.includes("entry") && n.name !== node.name);
  return entry ? { via: "mesh", jump: entry.name } : { via: "mesh" };
}
