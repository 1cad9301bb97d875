// A peer's own WireGuard configuration (an operator's laptop, a client): the nodes that list
// it, with their endpoints. The peer's private key is its own business: the caller supplies it,
// or the file loads it from /etc/wireguard/<interface>.key as the nodes' files do.
import { PERSISTENT_KEEPALIVE } from "../fleet/catalog";
import type { Fleet, Peer } from "../fleet/fleet";
import type { Deployment } from "../plan/deployment";
import type { FleetPlan } from "../plan/model";
import { parseCidr } from "../net/ipv4";

export function renderPeerConf(
  fleet: Fleet,
  plan: FleetPlan,
  deployment: Deployment,
  peer: Peer,
  privateKey?: string,
): string {
  const prefix = parseCidr(fleet.mesh.cidr)?.prefix ?? 32;
  // In hub-spoke the hub routes the whole mesh; in a full mesh each node answers for itself.
  const viaHub = fleet.mesh.topology === "hub-spoke";
  const lines = [
    `# WireGuard for peer ${peer.name} (${peer.group}) in mesh ${fleet.mesh.name}.`,
    "[Interface]",
    `Address = ${peer.meshIp}/${prefix}`,
    ...(privateKey
      ? [`PrivateKey = ${privateKey}`]
      : ["PostUp = wg set %i private-key /etc/wireguard/%i.key"]),
  ];
  for (const node of plan.nodes) {
    if (!node.wireguard.peers.some((p) => p.name === peer.name)) continue;
    lines.push(
      "",
      "[Peer]",
      `# ${node.name}`,
      `PublicKey = ${deployment.publicKeyOf(node.name)}`,
      `AllowedIPs = ${viaHub ? fleet.mesh.cidr : `${node.meshIp}/32`}`,
      ...(node.publicIp ? [`Endpoint = ${node.publicIp}:${node.wireguard.listenPort}`] : []),
      `PersistentKeepalive = ${PERSISTENT_KEEPALIVE}`,
    );
  }
  return `${lines.join("\n")}\n`;
}
