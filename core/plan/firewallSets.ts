// The firewall policy as nftables sets: one accept rule per port group, with the set of its
// sources (and, on a hub, of its destinations), so a node's ruleset grows by a set element
// when the fleet grows, not by a rule. The mesh input policy itself stays per source (the
// plan's meshAccess); this only regroups it, and allows exactly what it allows. A hub's
// forwarding is planned as these sets directly (firewall.ts), never as a list of pairs.
import { sortByIpv4 } from "../net/ipv4";
import type { FirewallPolicy, PortGroup, SetRule } from "./model";

export type { PortGroup, SetRule } from "./model";

interface Grant {
  readonly tcpPorts: readonly number[];
  readonly udpPorts: readonly number[];
  readonly ping: boolean;
}

function portGroups(g: Grant): PortGroup[] {
  return [
    ...(g.tcpPorts.length > 0 ? [{ kind: "tcp" as const, ports: g.tcpPorts }] : []),
    ...(g.udpPorts.length > 0 ? [{ kind: "udp" as const, ports: g.udpPorts }] : []),
    ...(g.ping ? [{ kind: "ping" as const }] : []),
  ];
}

const ORDER = { tcp: 0, udp: 1, ping: 2 } as const;
const keyOf = (m: PortGroup) => (m.kind === "ping" ? "ping" : `${m.kind} ${m.ports.join(",")}`);
const sortedIps = (ips: Iterable<string>) => sortByIpv4(ips, (ip) => ip);

const textOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function byPortGroup(a: SetRule, b: SetRule): number {
  const ka = keyOf(a.match);
  const kb = keyOf(b.match);
  return (
    ORDER[a.match.kind] - ORDER[b.match.kind] ||
    textOrder(ka, kb) ||
    textOrder(
      `${a.from.join(" ")}|${(a.to ?? []).join(" ")}`,
      `${b.from.join(" ")}|${(b.to ?? []).join(" ")}`,
    )
  );
}

/** The mesh interface's input: one rule per port group, from the set of sources it has. */
export function meshInputSets(fw: FirewallPolicy): SetRule[] {
  const groups = new Map<string, { match: PortGroup; from: Set<string> }>();
  for (const a of fw.meshAccess) {
    for (const match of portGroups(a)) {
      const g = groups.get(keyOf(match)) ?? { match, from: new Set<string>() };
      g.from.add(a.fromIp);
      groups.set(keyOf(match), g);
    }
  }
  return [...groups.values()]
    .map((g) => ({ match: g.match, from: sortedIps(g.from) }))
    .sort(byPortGroup);
}

/** A member the hub forwards to, and what each source may reach on it. */
export interface ForwardDestination {
  readonly toIp: string;
  /** Per source address (a member's, or the mesh's CIDR for a member's public ports). */
  readonly access: readonly (Grant & { readonly fromIp: string })[];
}

/**
 * What a hub forwards: per port group, destinations with the same sources share one rule. A
 * destination may also stand in its own set of sources: the hub never forwards a node's
 * traffic to itself (WireGuard takes from a peer only the peer's own address, and a node
 * reaches itself without the hub), so that allows nothing — and it makes the sets of "every
 * node may ping every node" one set. Per port group, the grouping with fewer rules wins.
 * Networks (the whole mesh, to a member's public ports) stay in sets of their own: a set may
 * not hold a network and an address inside it.
 */
export function forwardSets(destinations: readonly ForwardDestination[]): SetRule[] {
  const groups = new Map<string, { match: PortGroup; to: Map<string, Set<string>> }>();
  for (const d of destinations) {
    for (const a of d.access) {
      for (const match of portGroups(a)) {
        const key = `${keyOf(match)}${a.fromIp.includes("/") ? " network" : ""}`;
        const g = groups.get(key) ?? { match, to: new Map<string, Set<string>>() };
        const from = g.to.get(d.toIp) ?? new Set<string>();
        if (a.fromIp !== d.toIp) from.add(a.fromIp);
        g.to.set(d.toIp, from);
        groups.set(key, g);
      }
    }
  }
  return [...groups.values()]
    .flatMap((g) => {
      const apart = shareSources(g.to, false);
      const withSelf = shareSources(g.to, true);
      const best = withSelf.length < apart.length ? withSelf : apart;
      return best.map((r) => ({ match: g.match, ...r }));
    })
    .sort(byPortGroup);
}

/** Destinations grouped by their set of sources, each one counted in its own set or not. */
function shareSources(
  to: ReadonlyMap<string, ReadonlySet<string>>,
  self: boolean,
): { from: string[]; to: string[] }[] {
  const rules = new Map<string, { from: string[]; to: string[] }>();
  for (const [dest, from] of to) {
    const sources = sortedIps(self ? [...from, dest] : from);
    const key = sources.join(" ");
    const r = rules.get(key) ?? { from: sources, to: [] };
    r.to.push(dest);
    rules.set(key, r);
  }
  return [...rules.values()].map((r) => ({ from: r.from, to: sortedIps(r.to) }));
}
