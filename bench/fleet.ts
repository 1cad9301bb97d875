// Fleets of any size for the bench and the scale tests: every provider and role,
// hub-and-spoke on a /16. Keys and hashes are of the right shape; nothing here is real.
const OPERATOR_KEY =
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEXZOHGwGJeHtlDjlaFAMCM0/fzBcz7YbrD5Y/JrOiZX operator@example";
/** Where the operator reaches new hosts from (TEST-NET-2). */
const OPERATOR_NETWORK = "198.51.100.0/24";
const PEER_KEY = "cTFvXm8z6TM4q8Qb8n4hRHB1ij8o9y/qIH+Z0sWWUS4=";
const SHA = "a".repeat(64);
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGb5zPl6Cpc5I+0uqLo6bsdOAfJvl0hEKyJL3LAUcme9";
const NIXPKGS = {
  branch: "nixos-26.05",
  rev: "0123456789abcdef0123456789abcdef01234567",
  sha256: "1f1kg9s885kgzrgw2n6k7fgxidf4lfxg57f6rpgavh5sjkv48cdy",
};

/** A raw fleet spec (what a stack file's clawd-mesh:fleet holds), `size` nodes. */
export function generatedFleet(size: number): Record<string, unknown> {
  const vultrRegions = ["ams", "fra", "ewr", "nrt", "syd"];
  const awsRegions = ["us-east-1", "eu-central-1"];
  const nodes = Array.from({ length: size }, (_, i) => {
    const id = i + 1;
    const name = `n${id}`;
    const roles = [
      ...(i === 0 ? ["hub"] : []),
      ...(i === 1 ? ["k3s-server"] : i % 5 === 0 && i > 0 ? ["k3s-agent"] : []),
      ...(i % 3 === 2 ? ["vault"] : []),
      ...(i % 4 === 3 ? ["ollama"] : []),
    ];
    const where =
      i % 3 === 0
        ? {
            provider: "existing",
            region: "lab",
            publicIp: `198.18.${Math.floor(id / 250)}.${(id % 250) + 1}`,
            sshHostKey: HOST_KEY,
          }
        : i % 3 === 1
          ? { provider: "aws", region: awsRegions[i % 2], instanceType: "t3.small" }
          : { provider: "vultr", region: vultrRegions[i % 5], plan: "vc2-1c-1gb" };
    return {
      name,
      ...where,
      os: i % 2 === 0 ? "nixos" : "debian",
      id,
      roles,
      ...(roles.includes("vault") && {
        dnsName: `${name}.example.com`,
        vault: { binaryUrl: "https://example.com/v", binarySha256: SHA },
      }),
      ...(roles.includes("ollama") && { ollama: { models: [{ name: `m${id}:1b` }] } }),
      ...(roles.includes("k3s-server") && { k3s: { flannelBackend: "vxlan" } }),
    };
  });
  return {
    mesh: { name: "big", cidr: "10.99.0.0/16", listenPort: 51820, topology: "hub-spoke" },
    ssh: {
      adminUser: "ops",
      authorizedKeys: [OPERATOR_KEY],
      allowFrom: ["group:operators"],
      firstContactFrom: [OPERATOR_NETWORK],
    },
    dns: { zones: ["example.com"] },
    nixpkgs: { ...NIXPKGS },
    peers: [{ name: "op", group: "operators", meshIp: "10.99.255.200", publicKey: PEER_KEY }],
    nodes,
    access: [{ from: ["group:operators"], to: ["role:ollama"], tcp: [11434] }],
  };
}
