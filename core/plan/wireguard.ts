// Who peers with whom. Hub-spoke: spokes peer with the hub only and reach each other through
// it; the hub peers with everyone. Full mesh: every node peers with every node, and peers
// (operators, clients) with the nodes they may reach. Endpoints only where there is a public
// address to dial; whoever sits behind NAT (or is a spoke) keeps the path open.
import { PERSISTENT_KEEPALIVE, WG_INTERFACE, WG_KEY_FILE } from "../fleet/catalog";
import type { Fleet, FleetNode } from "../fleet/fleet";
import { parseCidr, sortByIpv4 } from "../net/ipv4";
import { publicIpOf, type Deployment } from "./deployment";
import type { MeshAccess, WgPeer, WireGuardPlan } from "./model";

export function hubOf(fleet: Fleet): FleetNode | undefined {
  return fleet.mesh.topology === "hub-spoke"
    ? fleet.nodes.find((n) => n.roles.includes("hub"))
    : undefined;
}

/** Whether a node accepts WireGuard handshakes from the internet. */
export function listensPublicly(fleet: Fleet, node: FleetNode): boolean {
  if (fleet.mesh.topology === "hub-spoke") return node.roles.includes("hub");
  return node.address.kind !== "nat";
}

export function planWireGuard(
  fleet: Fleet,
  node: FleetNode,
  deployment: Deployment,
  meshAccess: (node: FleetNode) => readonly MeshAccess[],
): WireGuardPlan {
  const prefix = parseCidr(fleet.mesh.cidr)?.prefix ?? 32;
  const hub = hubOf(fleet);
  const spoke = hub !== undefined && hub.name !== node.name;
  const endpointOf = (other: FleetNode) => {
    const ip = publicIpOf(other, deployment);
    return ip !== null && listensPublicly(fleet, other)
      ? { endpoint: `${ip}:${fleet.mesh.listenPort}` }
      : {};
  };
  const nodePeer = (other: FleetNode, allowedIps: string[]): WgPeer => ({
    name: other.name,
    publicKey: deployment.publicKeyOf(other.name),
    allowedIps,
    ...endpointOf(other),
    ...((spoke || node.address.kind === "nat") && { persistentKeepalive: PERSISTENT_KEEPALIVE }),
  });

  let peers: WgPeer[];
  if (spoke && hub) {
    peers = [nodePeer(hub, [fleet.mesh.cidr])];
  } else {
    const others = fleet.nodes.filter((n) => n.name !== node.name);
    // A full-mesh node carries only the peers that may reach it; a hub carries every peer,
    // because it routes them to the spokes.
    const reaching = new Set(meshAccess(node).map((a) => a.from));
    const clients = fleet.peers.filter((p) => hub !== undefined || reaching.has(p.name));
    peers = [
      ...others.map((o) => nodePeer(o, [`${o.meshIp}/32`])),
      ...clients.map((p) => ({
        name: p.name,
        publicKey: p.publicKey,
        allowedIps: [`${p.meshIp}/32`],
      })),
    ];
  }
  return {
    interface: WG_INTERFACE,
    address: `${node.meshIp}/${prefix}`,
    // Fixed on every node, spokes too: `wg syncconf` would otherwise pick a new random port on
    // each push, and peers would lose the node until its next keepalive. A spoke's port stays
    // closed publicly; its own outbound tunnel needs no opening.
    listenPort: fleet.mesh.listenPort,
    privateKeyFile: WG_KEY_FILE,
    forwarding: hub !== undefined && hub.name === node.name,
    // By address, then name (the sort is stable).
    peers: sortByIpv4(
      peers.sort((a, b) => a.name.localeCompare(b.name)),
      ipOf,
    ),
  };
}

function ipOf(peer: WgPeer): string {
  return (peer.allowedIps[0] ?? "").split("/")[0] ?? "";
}
