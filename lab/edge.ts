// A provider's firewall (a Vultr firewall group, an AWS security group) as the lab enforces it
// at a host's edge of the internet, with the providers' defaults: stateful, and inbound traffic
// that no rule accepts is dropped. Rendered as one nftables transaction that replaces the
// host's chain, so a change never leaves the host half open or half closed.
import { parseCidr } from "../core/net/ipv4";

export interface EdgeRule {
  readonly protocol: "tcp" | "udp" | "icmp";
  /** An inclusive range, for tcp and udp; every port when absent. */
  readonly ports?: readonly [number, number];
  /** The sources admitted: "0.0.0.0/0", "203.0.113.0/24". */
  readonly cidr: string;
}

/** The chain that holds the rules of the host whose veth is `outside` on the router. */
export function edgeChain(outside: string): string {
  return `edge_${outside}`;
}

/** `nft -f` input that replaces the chain's rules; undefined rules leave it empty (open). */
export function renderEdge(
  table: string,
  outside: string,
  rules: readonly EdgeRule[] | undefined,
): string {
  const chain = edgeChain(outside);
  const lines = [`flush chain ${table} ${chain}`];
  if (rules) {
    checkRules(rules);
    for (const rule of rules) lines.push(`add rule ${table} ${chain} ${match(rule)} accept`);
    lines.push(`add rule ${table} ${chain} drop`);
  }
  return `${lines.join("\n")}\n`;
}

function match(rule: EdgeRule): string {
  // No lab host speaks IPv6, but providers' rule sets carry both families: take them as given.
  const source = `${rule.cidr.includes(":") ? "ip6" : "ip"} saddr ${rule.cidr}`;
  if (rule.protocol === "icmp" || !rule.ports) return `${source} meta l4proto ${rule.protocol}`;
  const [from, to] = rule.ports;
  return `${source} ${rule.protocol} dport ${from === to ? from : `${from}-${to}`}`;
}

function checkRules(rules: readonly EdgeRule[]): void {
  const problems = rules.flatMap((rule, i) => {
    const at = `edge rule ${i} (${JSON.stringify(rule)})`;
    const found: string[] = [];
    if (!["tcp", "udp", "icmp"].includes(rule.protocol)) {
      found.push(`${at}: protocol must be tcp, udp or icmp`);
    }
    if (!rule.cidr.includes(":") && !parseCidr(rule.cidr)) {
      found.push(`${at}: cidr is not a network such as 198.18.0.0/15 (host bits must be zero)`);
    }
    if (rule.ports && rule.protocol === "icmp") {
      found.push(`${at}: icmp has no ports; leave ports out`);
    }
    const [from, to] = rule.ports ?? [0, 0];
    const port = (p: number) => Number.isInteger(p) && p >= 0 && p <= 65535;
    if (rule.ports && (!port(from) || !port(to) || from > to)) {
      found.push(`${at}: ports must be [from, to] with 0 <= from <= to <= 65535`);
    }
    return found;
  });
  if (problems.length > 0) throw new Error(`bad edge rules:\n  ${problems.join("\n  ")}`);
}
