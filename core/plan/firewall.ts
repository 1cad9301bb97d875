// The firewall policy of each node. Public side: what the node's roles need, plus ports the
// stack file lists (sensitive ones only with explicit consent, checked in validation). Mesh
// side: default deny, then per source exactly what SSH management, k3s membership, node
// pings and the access rules grant.
import { FLANNEL_VXLAN_PORT, K3S_API_PORT, KUBELET_PORT, WEB_PORTS } from "../fleet/catalog";
import { publicSsh, type Fleet, type FleetNode } from "../fleet/fleet";
import { destinationsOf, sourcesOf, type Source } from "../fleet/selectors";
import { sortByIpv4 } from "../net/ipv4";
import { uniqueSorted } from "../fleet/report";
import { forwardSets, type ForwardDestination } from "./firewallSets";
import type { FirewallPolicy, MeshAccess, SetRule } from "./model";
import { breakGlassCidrsOf } from "./sshd";
import { hubOf, listensPublicly } from "./wireguard";

export function publicPorts(fleet: Fleet, node: FleetNode): { tcp: number[]; udp: number[] } {
  const has = (role: FleetNode["roles"][number]) => node.roles.includes(role);
  const tcp = [
    ...node.publicTcpPorts,
    ...(publicSsh(node, fleet.ssh.port) ? [fleet.ssh.port] : []),
    ...(has("vault") || has("k3s-server") ? WEB_PORTS : []),
  ];
  const udp = [
    ...node.publicUdpPorts,
    ...(listensPublicly(fleet, node) ? [fleet.mesh.listenPort] : []),
  ];
  return { tcp: uniqueSorted(tcp), udp: uniqueSorted(udp) };
}

interface Grant {
  readonly source: Source;
  tcp: number[];
  udp: number[];
  ping: boolean;
}

/**
 * A node's policy depends on the fleet alone, and each is asked for several times: the
 * program's cloud firewall, the node's bundle and the fleet's plan, and the hub's forwarding
 * reads every member's. Kept per fleet and node object (both are never changed once
 * validated), so a fleet is planned once, not once per reader.
 */
function memoized<T>(plan: (fleet: Fleet, node: FleetNode) => T) {
  const byFleet = new WeakMap<Fleet, WeakMap<FleetNode, T>>();
  return (fleet: Fleet, node: FleetNode): T => {
    const byNode = byFleet.get(fleet) ?? new WeakMap<FleetNode, T>();
    byFleet.set(fleet, byNode);
    if (!byNode.has(node)) byNode.set(node, plan(fleet, node));
    return byNode.get(node) as T;
  };
}

/** Per-source allowances on a node's mesh interface, sorted by source address. */
export const meshAccessFor = memoized(function meshAccessFor(
  fleet: Fleet,
  node: FleetNode,
): readonly MeshAccess[] {
  const grants = new Map<string, Grant>();
  const grant = (source: Source, tcp: readonly number[], udp: readonly number[], ping: boolean) => {
    if (source.name === node.name) return;
    const g = grants.get(source.name) ?? { source, tcp: [], udp: [], ping: false };
    g.tcp.push(...tcp);
    g.udp.push(...udp);
    g.ping ||= ping;
    grants.set(source.name, g);
  };
  const asSource = (n: FleetNode): Source => ({ kind: "node", name: n.name, meshIp: n.meshIp });

  // Management: operators named in ssh.allowFrom, and entry nodes, which ProxyJump starts from.
  for (const s of sourcesOf(fleet.ssh.allowFrom, fleet.nodes, fleet.peers)) {
    grant(s, [fleet.ssh.port], [], true);
  }
  for (const entry of fleet.nodes.filter((n) => n.roles.includes("entry"))) {
    grant(asSource(entry), [fleet.ssh.port], [], true);
  }
  // Nodes may ping each other: the mesh's own health check.
  for (const other of fleet.nodes) grant(asSource(other), [], [], true);

  for (const { other, tcp, udp } of k3sTraffic(fleet, node))
    grant(asSource(other), tcp, udp, false);

  for (const rule of fleet.access) {
    if (!destinationsOf(rule.to, fleet.nodes).some((d) => d.name === node.name)) continue;
    for (const s of sourcesOf(rule.from, fleet.nodes, fleet.peers)) {
      grant(s, rule.tcp, rule.udp, rule.ping);
    }
  }
  return sortByIpv4(
    [...grants.values()].map((g) => ({
      from: g.source.name,
      fromIp: g.source.meshIp,
      tcpPorts: uniqueSorted(g.tcp),
      udpPorts: uniqueSorted(g.udp),
      ping: g.ping,
    })),
    (a) => a.fromIp,
  );
});

/** What k3s members need from each other: API on the server, kubelet, flannel's VXLAN. */
function k3sTraffic(
  fleet: Fleet,
  node: FleetNode,
): { other: FleetNode; tcp: number[]; udp: number[] }[] {
  const members = fleet.nodes.filter((n) => isK3s(n));
  if (!isK3s(node)) return [];
  const server = members.find((n) => n.roles.includes("k3s-server"));
  const vxlan = server?.k3s?.flannelBackend === "vxlan";
  return members
    .filter((m) => m.name !== node.name)
    .map((other) => ({
      other,
      tcp: [KUBELET_PORT, ...(node.roles.includes("k3s-server") ? [K3S_API_PORT] : [])],
      udp: vxlan ? [FLANNEL_VXLAN_PORT] : [],
    }));
}

export function isK3s(node: FleetNode): boolean {
  return node.roles.includes("k3s-server") || node.roles.includes("k3s-agent");
}

/**
 * On the hub: the traffic it may route between members, mirroring each destination — its
 * public ports from anyone on the mesh (they are open on every interface of the node, as in
 * a full mesh), and what its mesh access grants each source — as set rules. Every member may
 * reach every other, so a list per pair would grow with the square of the fleet.
 */
export function meshForwardFor(fleet: Fleet, node: FleetNode): SetRule[] {
  const hub = hubOf(fleet);
  if (!hub || hub.name !== node.name) return [];
  return forwardSets(
    fleet.nodes
      .filter((d) => d.name !== hub.name)
      .map((d): ForwardDestination => ({
        toIp: d.meshIp,
        access: [
          ...publicToMesh(fleet, d),
          ...meshAccessFor(fleet, d).filter((a) => a.from !== hub.name),
        ],
      })),
  );
}

/** A member's public ports, from the whole mesh. */
function publicToMesh(fleet: Fleet, d: FleetNode): ForwardDestination["access"] {
  const ports = publicPorts(fleet, d);
  if (ports.tcp.length + ports.udp.length === 0) return [];
  return [{ fromIp: fleet.mesh.cidr, tcpPorts: ports.tcp, udpPorts: ports.udp, ping: false }];
}

export const planFirewall = memoized(function planFirewall(
  fleet: Fleet,
  node: FleetNode,
): FirewallPolicy {
  const ports = publicPorts(fleet, node);
  return {
    publicTcpPorts: ports.tcp,
    publicUdpPorts: ports.udp,
    breakGlass: breakGlassCidrsOf(fleet, node).map((cidr) => ({
      cidr,
      tcpPorts: [fleet.ssh.port],
    })),
    firstContact: { cidrs: fleet.ssh.firstContactFrom, tcpPorts: [fleet.ssh.port] },
    meshAccess: meshAccessFor(fleet, node),
    meshForward: meshForwardFor(fleet, node),
    trustedInterfaces: isK3s(node) ? ["cni0", "flannel.1"] : [],
    metadataRootOnly: node.provider !== "existing",
  };
});
