// Random valid fleets for property tests. Validity is built in (not filtered for), so every
// generated case exercises planning: one public hub in hub-spoke; in a full mesh at most one
// node behind NAT, with an entry node to reach it and no rule pointing a peer at it.
import fc from "fast-check";
import { HOST_KEY, NIXPKGS, OPERATOR_KEY, OPERATOR_NETWORK, SHA, type Raw } from "./fleets";
import { createHash } from "node:crypto";

const key = (name: string) => createHash("sha256").update(name).digest("base64");

const nodeShape = fc.record({
  id: fc.integer({ min: 1, max: 199 }),
  cloud: fc.boolean(),
  ollama: fc.boolean(),
  vault: fc.boolean(),
  extraTcp: fc.uniqueArray(fc.integer({ min: 8000, max: 8010 }), { maxLength: 2 }),
});

export const fleetArbitrary: fc.Arbitrary<Raw> = fc
  .record({
    topology: fc.constantFrom("hub-spoke", "full-mesh"),
    nodes: fc.uniqueArray(nodeShape, { selector: (n) => n.id, minLength: 1, maxLength: 10 }),
    natIndex: fc.integer({ min: -1, max: 9 }),
    clients: fc.uniqueArray(fc.integer({ min: 201, max: 254 }), { maxLength: 4 }),
    ruleSeeds: fc.array(
      fc.record({
        from: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
        to: fc.array(fc.nat(), { minLength: 1, maxLength: 2 }),
        tcp: fc.uniqueArray(fc.integer({ min: 1, max: 65535 }), { maxLength: 3 }),
        udp: fc.uniqueArray(fc.integer({ min: 1, max: 65535 }), { maxLength: 2 }),
        ping: fc.boolean(),
      }),
      { maxLength: 4 },
    ),
  })
  .map(({ topology, nodes, natIndex, clients, ruleSeeds }) => {
    const sorted = [...nodes].sort((a, b) => a.id - b.id);
    // The first node is the hub (hub-spoke) or the entry (full mesh): always public.
    const nat = natIndex > 0 && natIndex < sorted.length ? natIndex : -1;
    const fleetNodes = sorted.map((n, i) => {
      const roles = [
        ...(i === 0 ? [topology === "hub-spoke" ? "hub" : "entry"] : []),
        ...(n.ollama && i !== nat ? ["ollama"] : []),
        ...(n.vault && i !== nat ? ["vault"] : []),
      ];
      const natted = i === nat;
      return {
        name: `n${n.id}`,
        ...(n.cloud && !natted
          ? { provider: "vultr", region: "fra", plan: "vc2-1c-1gb" }
          : {
              provider: "existing",
              region: "lab",
              publicIp: natted ? null : `198.51.100.${n.id}`,
              sshHostKey: HOST_KEY,
            }),
        os: n.id % 2 === 0 ? "nixos" : "debian",
        id: n.id,
        roles,
        ...(natted ? {} : { publicTcpPorts: n.extraTcp }),
        ...(roles.includes("vault") && {
          vault: { binaryUrl: "https://example.com/v", binarySha256: SHA },
        }),
        ...(roles.includes("ollama") && { ollama: { models: [{ name: "llama3.1:8b" }] } }),
      };
    });
    const peers = [
      { name: "op", group: "operators", meshIp: "10.30.0.200", publicKey: key("op") },
      ...clients.map((c) => ({
        name: `c${c}`,
        group: "clients",
        meshIp: `10.30.0.${c}`,
        publicKey: key(`c${c}`),
      })),
    ];
    const roles = [...new Set(fleetNodes.flatMap((n) => n.roles))];
    const targets = [
      ...fleetNodes.filter((_, i) => i !== nat).map((n) => `node:${n.name}`),
      ...roles.filter((r) => r === "ollama" || r === "vault").map((r) => `role:${r}`),
    ];
    const sources = [
      "group:operators",
      ...(clients.length > 0 ? ["group:clients"] : []),
      ...fleetNodes.map((n) => `node:${n.name}`),
      ...roles.map((r) => `role:${r}`),
      "*",
    ];
    const pick = (list: string[], seeds: number[]) => [
      ...new Set(seeds.map((s) => list[s % list.length] as string)),
    ];
    const access = ruleSeeds
      .map((r) => ({
        from: pick(sources, r.from),
        to: pick(targets, r.to),
        tcp: r.tcp,
        udp: r.udp,
        ping: r.ping || (r.tcp.length === 0 && r.udp.length === 0),
      }))
      .filter((r) => r.to.length > 0);
    return {
      mesh: { name: "prop", cidr: "10.30.0.0/24", listenPort: 51820, topology },
      ssh: {
        adminUser: "ops",
        authorizedKeys: [OPERATOR_KEY],
        allowFrom: ["group:operators"],
        firstContactFrom: [OPERATOR_NETWORK],
      },
      nixpkgs: { ...NIXPKGS },
      nodes: fleetNodes,
      peers,
      access,
    };
  });
