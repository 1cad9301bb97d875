// Planning properties over random valid fleets. The oracle below is written from the spec's
// words, independently of core/plan, and compared with the rendered firewall text.
import fc from "fast-check";
import { validateFleet } from "../../core/fleet/validate";
import { synthesize } from "../../core/synth";
import { contains, parseCidr, parseIpv4, broadcast } from "../../core/net/ipv4";
import { placeholderDeployment } from "../../core/plan/deployment";
import { fleetArbitrary } from "../helpers/arbitrary";
import { parseNft } from "../helpers/nftParse";
import { HOST_KEY, type Raw } from "../helpers/fleets";

const RUNS = { numRuns: 150 };

interface Member {
  name: string;
  ip: string;
  node: boolean;
  group?: string;
  roles: string[];
}

function members(raw: Raw): Member[] {
  return [
    ...raw.nodes.map((n: Raw) => ({
      name: n.name,
      ip: `10.30.0.${n.id}`,
      node: true,
      roles: n.roles,
    })),
    ...raw.peers.map((p: Raw) => ({
      name: p.name,
      ip: p.meshIp,
      node: false,
      group: p.group,
      roles: [],
    })),
  ];
}

function resolve(all: Member[], selector: string): Member[] {
  if (selector === "*") return all;
  const [kind, name] = selector.split(":");
  return all.filter((m) =>
    kind === "node"
      ? m.node && m.name === name
      : kind === "role"
        ? m.roles.includes(name ?? "")
        : kind === "group"
          ? m.group === name
          : kind === "peer"
            ? !m.node && m.name === name
            : false,
  );
}

/** What the spec says node `dest` accepts on the mesh, as "ip|proto|port" facts. */
function expectedMesh(raw: Raw, dest: Member): Set<string> {
  const all = members(raw);
  const facts = new Set<string>();
  const add = (src: Member, f: string) => src.name !== dest.name && facts.add(`${src.ip}|${f}`);
  const managers = [
    ...raw.ssh.allowFrom.flatMap((s: string) => resolve(all, s)),
    ...all.filter((m) => m.roles.includes("entry")),
  ];
  for (const m of managers) {
    add(m, "tcp|22");
    add(m, "icmp");
  }
  for (const m of all.filter((x) => x.node)) add(m, "icmp");
  for (const rule of raw.access) {
    const dests = rule.to.flatMap((s: string) => resolve(all, s));
    if (!dests.some((d: Member) => d.name === dest.name)) continue;
    for (const src of rule.from.flatMap((s: string) => resolve(all, s))) {
      for (const p of rule.tcp) add(src, `tcp|${p}`);
      for (const p of rule.udp) add(src, `udp|${p}`);
      if (rule.ping) add(src, "icmp");
    }
  }
  return facts;
}

function expectedPublic(raw: Raw, node: Raw): Set<string> {
  const hub = raw.mesh.topology === "hub-spoke";
  const reachable = node.provider !== "existing" || node.publicIp !== null;
  const tcp = [
    ...(node.publicTcpPorts ?? []),
    ...(node.roles.includes("entry") ? [22] : []),
    ...(node.roles.includes("vault") ? [80, 443] : []),
  ];
  const wg = hub ? node.roles.includes("hub") : reachable;
  return new Set([...tcp.map((p: number) => `tcp|${p}`), ...(wg ? ["udp|51820"] : [])]);
}

function nftOf(raw: Raw, node: string): string {
  return synthesize(raw).files.get(`nodes/${node}/nftables.conf`) ?? "";
}

test("generated fleets are valid", () => {
  fc.assert(
    fc.property(fleetArbitrary, (raw) => void validateFleet(raw)),
    RUNS,
  );
});

test("mesh IPs are unique, inside the CIDR and never its network or broadcast address", () => {
  fc.assert(
    fc.property(fleetArbitrary, (raw) => {
      const fleet = validateFleet(raw);
      const cidr = parseCidr(fleet.mesh.cidr)!;
      const ips = [...fleet.nodes, ...fleet.peers].map((m) => parseIpv4(m.meshIp)!);
      expect(new Set(ips).size).toBe(ips.length);
      for (const ip of ips) {
        expect(contains(cidr, ip)).toBe(true);
        expect(ip).not.toBe(cidr.network);
        expect(ip).not.toBe(broadcast(cidr));
      }
    }),
    RUNS,
  );
});

test("adding or removing a node never moves another node, and list order changes nothing", () => {
  fc.assert(
    fc.property(fleetArbitrary, fc.nat(), fc.integer({ min: 1, max: 199 }), (raw, pick, newId) => {
      const before = synthesize(raw);
      const ipOf = (s: typeof before) => new Map(s.plan.nodes.map((n) => [n.name, n.meshIp]));
      const base = ipOf(before);

      // Remove a node no selector depends on (not the first: it is the hub or the entry).
      const named = JSON.stringify(raw.access);
      const removable = raw.nodes
        .slice(1)
        .filter(
          (n: Raw) =>
            !named.includes(`"node:${n.name}"`) &&
            n.roles.every(
              (r: string) =>
                !named.includes(`"role:${r}"`) ||
                raw.nodes.some((o: Raw) => o !== n && o.roles.includes(r)),
            ),
        );
      if (removable.length > 0) {
        const gone = removable[pick % removable.length].name;
        const smaller = { ...raw, nodes: raw.nodes.filter((n: Raw) => n.name !== gone) };
        for (const [name, ip] of ipOf(synthesize(smaller))) expect(ip).toBe(base.get(name));
      }

      if (!raw.nodes.some((n: Raw) => n.id === newId)) {
        const extra = {
          name: `x${newId}`,
          provider: "existing",
          region: "lab",
          publicIp: "198.51.100.250",
          sshHostKey: HOST_KEY,
          os: "debian",
          id: newId,
          roles: [],
        };
        const bigger = { ...raw, nodes: [...raw.nodes, extra] };
        for (const [name, ip] of base) expect(ipOf(synthesize(bigger)).get(name)).toBe(ip);
      }

      const shuffled = { ...raw, nodes: [...raw.nodes].reverse(), peers: [...raw.peers].reverse() };
      expect(synthesize(shuffled).files).toEqual(before.files);
    }),
    { numRuns: 60 },
  );
});

test("peers are symmetric and carry the other side's key", () => {
  fc.assert(
    fc.property(fleetArbitrary, (raw) => {
      const fleet = validateFleet(raw);
      const keys = placeholderDeployment(fleet);
      const { plan } = synthesize(raw);
      const nodeNames = new Set(plan.nodes.map((n) => n.name));
      const lists = new Map(
        plan.nodes.map((n) => [n.name, n.wireguard.peers.filter((p) => nodeNames.has(p.name))]),
      );
      for (const node of plan.nodes) {
        for (const peer of lists.get(node.name) ?? []) {
          expect(peer.publicKey).toBe(keys.publicKeyOf(peer.name));
          expect(lists.get(peer.name)?.map((p) => p.name)).toContain(node.name);
        }
      }
      const hub = plan.nodes.find((n) => n.roles.includes("hub"));
      for (const node of plan.nodes) {
        const names = (lists.get(node.name) ?? []).map((p) => p.name).sort();
        const others = plan.nodes
          .filter((n) => n.name !== node.name)
          .map((n) => n.name)
          .sort();
        if (!hub || node === hub) expect(names).toEqual(others);
        else expect(names).toEqual([hub.name]);
      }
    }),
    RUNS,
  );
});

test("every access rule is honoured and nothing else is open", () => {
  fc.assert(
    fc.property(fleetArbitrary, (raw) => {
      const all = members(raw);
      const hub = raw.nodes.find((n: Raw) => n.roles.includes("hub"));
      for (const node of raw.nodes) {
        const nft = parseNft(nftOf(raw, node.name));
        const dest = all.find((m) => m.name === node.name)!;
        expect(nft.mesh).toEqual(expectedMesh(raw, dest));
        expect(nft.public).toEqual(expectedPublic(raw, node));
        if (node === hub) {
          const forwarded = new Set<string>();
          for (const other of all.filter((m) => m.node && m.name !== hub.name)) {
            const spec = raw.nodes.find((n: Raw) => n.name === other.name);
            for (const fact of expectedPublic(raw, spec))
              forwarded.add(`10.30.0.0/24>${other.ip}|${fact}`);
            for (const fact of expectedMesh(raw, other)) {
              const [src, ...rest] = fact.split("|");
              if (src !== `10.30.0.${hub.id}`)
                forwarded.add(`${src}>${other.ip}|${rest.join("|")}`);
            }
          }
          // A node in its own set of sources is allowed nothing: the hub never forwards a
          // node's traffic to itself (firewallSets.ts), so those facts are left out.
          const routed = [...nft.forward].filter((f) => {
            const [src, dst] = (f.split("|")[0] ?? "").split(">");
            return src !== dst;
          });
          expect(new Set(routed)).toEqual(forwarded);
        } else {
          expect(nft.forward).toEqual(new Set());
        }
      }
    }),
    RUNS,
  );
});

test("where sshd answers the internet, fail2ban guards it; break-glass opens it, never behind NAT", () => {
  fc.assert(
    fc.property(fleetArbitrary, fc.boolean(), (raw, breakGlass) => {
      const fleet = {
        ...raw,
        ssh: { ...raw.ssh, breakGlassCidrs: breakGlass ? ["192.0.2.0/24"] : [] },
      };
      for (const node of synthesize(fleet).plan.nodes) {
        const everywhere = node.ssh.listenAddresses.length === 0;
        expect([node.name, node.hardening.fail2ban !== null]).toEqual([node.name, everywhere]);
        const open = breakGlass && node.publicIp !== null;
        expect(node.firewall.breakGlass.map((b) => b.cidr)).toEqual(open ? ["192.0.2.0/24"] : []);
        if (open) expect(everywhere).toBe(true);
      }
    }),
    RUNS,
  );
});
