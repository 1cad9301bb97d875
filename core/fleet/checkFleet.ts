// Checks that need the whole fleet at once: unique names and addresses, the hub, k3s
// membership, and whether every pair of peers that must talk can find each other.
import type { Topology } from "./catalog";
import type { AccessRule, FleetNode, Peer } from "./fleet";
import { formatIpv4 } from "../net/ipv4";
import type { Report } from "./report";

export interface Member {
  readonly path: string;
  readonly name: string;
  readonly meshIp?: number;
}

export function checkUnique(r: Report, members: readonly Member[]): void {
  const byName = new Map<string, string>();
  const byIp = new Map<number, string>();
  for (const m of members) {
    const first = byName.get(m.name);
    if (first) {
      r.add(
        `${m.path}.name`,
        m.name,
        `is already used by ${first}`,
        "give every node and peer its own name",
      );
    } else byName.set(m.name, m.path);
    if (m.meshIp === undefined) continue;
    const owner = byIp.get(m.meshIp);
    if (owner) {
      r.add(
        `${m.path}.meshIp`,
        formatIpv4(m.meshIp),
        `is already used by ${owner}`,
        "give every node and peer its own mesh address",
      );
    } else byIp.set(m.meshIp, `${m.path} (${m.name})`);
  }
}

export function checkTopology(
  r: Report,
  topology: Topology,
  raw: readonly { path: string; roles: readonly string[] }[],
): void {
  const hubs = raw.filter((n) => n.roles.includes("hub"));
  if (topology === "hub-spoke" && hubs.length === 0) {
    r.add(
      "fleet.nodes",
      "(no hub)",
      "hub-spoke needs exactly one hub",
      'add "hub" to the roles of one node with a public address',
    );
  }
  if (topology === "hub-spoke" && hubs.length > 1) {
    for (const extra of hubs.slice(1)) {
      r.add(
        `${extra.path}.roles`,
        extra.roles,
        `is a second hub (the first is ${hubs[0]?.path}); hub-spoke has exactly one`,
        "remove the hub role from all but one node",
      );
    }
  }
  if (topology === "full-mesh") {
    for (const hub of hubs) {
      r.add(
        `${hub.path}.roles`,
        hub.roles,
        "has the hub role in a full mesh, where every node peers directly",
        'remove "hub", or set mesh.topology to "hub-spoke"',
      );
    }
  }
}

export function checkK3sMembership(
  r: Report,
  raw: readonly { path: string; roles: readonly string[]; k3s?: { flannelBackend: string } }[],
): void {
  const servers = raw.filter((n) => n.roles.includes("k3s-server"));
  const agents = raw.filter((n) => n.roles.includes("k3s-agent"));
  if (servers.length === 0) {
    for (const agent of agents) {
      r.add(
        `${agent.path}.roles`,
        agent.roles,
        "has k3s-agent but no node in the fleet is a k3s-server",
        'give one node the "k3s-server" role',
      );
    }
  }
  const backend = servers[0]?.k3s?.flannelBackend ?? "host-gw";
  if (servers[0] && agents.length > 0 && backend === "host-gw") {
    r.add(
      `${servers[0].path}.k3s.flannelBackend`,
      backend,
      "needs every node on one L2 network, but agents join over WireGuard, which is L3",
      'use "vxlan" when the cluster has agents',
    );
  }
  for (const extra of servers.slice(1)) {
    r.add(
      `${extra.path}.roles`,
      extra.roles,
      `is a second k3s-server (the first is ${servers[0]?.path}); this program runs one server`,
      'make it a "k3s-agent"',
    );
  }
}

/**
 * In a full mesh, a WireGuard pair needs at least one side with an endpoint to dial. Nodes
 * behind NAT and peers (whose addresses are never known) can only dial out.
 */
export function checkReachability(
  r: Report,
  topology: Topology,
  nodes: readonly { path: string; node: FleetNode }[],
  peers: readonly Peer[],
  access: readonly AccessRule[],
  sshFromPeers: boolean,
  destinations: (rule: AccessRule) => readonly FleetNode[],
  sources: (rule: AccessRule) => readonly string[],
): void {
  if (topology !== "full-mesh") return;
  const natted = nodes.filter(({ node }) => node.address.kind === "nat");
  for (let i = 1; i < natted.length; i++) {
    const a = natted[0];
    const b = natted[i];
    if (!a || !b) continue;
    r.add(
      `${b.path}.publicIp`,
      null,
      `is behind NAT like ${a.node.name}, and two NAT'd nodes cannot reach each other in a full mesh`,
      'give one of them a public address, or use mesh.topology "hub-spoke"',
    );
  }
  const peerNames = new Set(peers.map((p) => p.name));
  const flagged = new Set<string>();
  access.forEach((rule, i) => {
    if (!sources(rule).some((s) => peerNames.has(s))) return;
    for (const dest of destinations(rule)) {
      if (dest.address.kind !== "nat" || flagged.has(dest.name)) continue;
      flagged.add(dest.name);
      r.add(
        `fleet.access[${i}].to`,
        dest.name,
        `lets peers reach ${dest.name}, which is behind NAT; in a full mesh a peer cannot dial it`,
        'use mesh.topology "hub-spoke", or give the node a public address',
      );
    }
  });
  if (sshFromPeers && peers.length > 0) {
    for (const { path, node } of natted) {
      if (flagged.has(node.name)) continue;
      r.add(
        `${path}.publicIp`,
        null,
        "is behind NAT, so the peers in ssh.allowFrom cannot reach it in a full mesh",
        'give some node the "entry" role to jump through, or use mesh.topology "hub-spoke"',
      );
    }
  }
}

export function checkDnsNames(
  r: Report,
  nodes: readonly { path: string; node: FleetNode }[],
): void {
  const seen = new Map<string, string>();
  for (const { path, node } of nodes) {
    const names = [
      ...(node.dnsName ? [{ at: `${path}.dnsName`, name: node.dnsName }] : []),
      ...(node.k3s?.ingressHosts ?? []).map((name, i) => ({
        at: `${path}.k3s.ingressHosts[${i}]`,
        name,
      })),
    ];
    for (const { at, name } of names) {
      const first = seen.get(name);
      if (first) r.add(at, name, `is already used by ${first}`, "give every DNS name to one place");
      else seen.set(name, at);
    }
  }
}
