// How an operator reaches a node's sshd: on its public address when the node has public SSH,
// otherwise on its mesh address — through the entry node when there is one, or directly when
// the operator is itself on the mesh. ssh_config and the program's connections both use this.
import { publicSsh, type Fleet, type FleetNode } from "../fleet/fleet";

export type Route = { readonly via: "public" } | { readonly via: "mesh"; readonly jump?: string };

export function managementRoute(fleet: Fleet, node: FleetNode): Route {
  if (publicSsh(node, fleet.ssh.port) && node.address.kind !== "nat") return { via: "public" };
  const entry = fleet.nodes.find((n) => n.roles.includes("entry") && n.name !== node.name);
  return entry ? { via: "mesh", jump: entry.name } : { via: "mesh" };
}
