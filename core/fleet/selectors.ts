// Resolving selectors ("node:x", "role:y", "group:z", "peer:w", "*") to members of the fleet.
import type { FleetNode, Peer, Selector } from "./fleet";

/** A mesh member that can be the source of traffic. */
export interface Source {
  readonly kind: "node" | "peer";
  readonly name: string;
  readonly meshIp: string;
}

function matchesNode(s: Selector, node: FleetNode): boolean {
  if (s.kind === "all") return true;
  if (s.kind === "node") return s.name === node.name;
  if (s.kind === "role") return (node.roles as readonly string[]).includes(s.name);
  return false;
}

function matchesPeer(s: Selector, peer: Peer): boolean {
  if (s.kind === "all") return true;
  if (s.kind === "peer") return s.name === peer.name;
  if (s.kind === "group") return s.name === peer.group;
  return false;
}

/** Every node and peer a list of selectors names, each once, sorted by name. */
export function sourcesOf(
  selectors: readonly Selector[],
  nodes: readonly FleetNode[],
  peers: readonly Peer[],
): Source[] {
  const found = new Map<string, Source>();
  for (const node of nodes) {
    if (selectors.some((s) => matchesNode(s, node))) {
      found.set(node.name, { kind: "node", name: node.name, meshIp: node.meshIp });
    }
  }
  for (const peer of peers) {
    if (selectors.some((s) => matchesPeer(s, peer))) {
      found.set(peer.name, { kind: "peer", name: peer.name, meshIp: peer.meshIp });
    }
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export function destinationsOf(
  selectors: readonly Selector[],
  nodes: readonly FleetNode[],
): FleetNode[] {
  return nodes.filter((node) => selectors.some((s) => matchesNode(s, node)));
}
