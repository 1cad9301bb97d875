// Reads back the accept rules of a rendered nftables.conf, as "source|proto|port" facts, so
// tests compare what the firewall text allows with what the spec says — not two strings.
export interface NftFacts {
  /** Open to everyone: "tcp|80", "udp|51820". */
  readonly public: Set<string>;
  /** On the mesh interface: "10.0.0.2|tcp|22", "10.0.0.2|icmp". */
  readonly mesh: Set<string>;
  /** Forwarded by a hub: "10.0.0.2>10.0.0.3|tcp|22". */
  readonly forward: Set<string>;
  readonly breakGlass: Set<string>;
}

function chainBody(text: string, name: string): string[] {
  const match = new RegExp(`\\tchain ${name} \\{\\n([\\s\\S]*?)\\n\\t\\}`).exec(text);
  return match
    ? (match[1] ?? "")
        .split("\n")
        .map((l) => l.trim())
        .filter(Boolean)
    : [];
}

/** The elements of "{ a, b }", or the one value. */
function ports(set: string): string[] {
  return set
    .replace(/[{}]/g, "")
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
}

const RULE =
  /^(?:ip saddr (\{[^}]*\}|\S+) )?(?:ip daddr (\{[^}]*\}|\S+) )?(?:(tcp|udp) dport (\{[^}]*\}|\d+)|icmp type echo-request) accept$/;

/** Facts of accept lines; an interface match in front ('iifname "wg0" …') is read past. */
export function facts(
  lines: readonly string[],
  key: (src?: string, dst?: string) => string,
): Set<string> {
  const out = new Set<string>();
  for (const line of lines) {
    const m = RULE.exec(line.replace(/^(?:[io]ifname "[^"]+" )+/, ""));
    if (!m) continue;
    // A set of sources (or destinations) is one fact per element.
    const each = (set?: string) => (set === undefined ? [undefined] : ports(set));
    for (const src of each(m[1])) {
      for (const dst of each(m[2])) {
        // A node in its own set of sources allows nothing: a hub never forwards a node's
        // traffic to itself (core/plan/firewallSets.ts). Such facts are left out.
        if (src !== undefined && src === dst) continue;
        const prefix = key(src, dst);
        if (m[3]) for (const p of ports(m[4] ?? "")) out.add(`${prefix}${m[3]}|${p}`);
        else out.add(`${prefix}icmp`);
      }
    }
  }
  return out;
}

export function parseNft(text: string): NftFacts {
  const allow = chainBody(text, "input_allow");
  const unknown = [...chainBody(text, "mesh_input"), ...chainBody(text, "mesh_forward")].filter(
    (l) => !RULE.test(l),
  );
  if (unknown.length > 0) throw new Error(`unparsed nft rules: ${unknown.join(" / ")}`);
  return {
    public: facts(
      allow.filter((l) => !l.startsWith("ip saddr")),
      () => "",
    ),
    breakGlass: facts(
      allow.filter((l) => l.startsWith("ip saddr")),
      (s) => `${s}|`,
    ),
    mesh: facts(chainBody(text, "mesh_input"), (s) => `${s}|`),
    forward: facts(chainBody(text, "mesh_forward"), (s, d) => `${s}>${d}|`),
  };
}
