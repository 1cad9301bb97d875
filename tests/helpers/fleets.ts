// A small valid fleet to mutate in tests: hub-spoke, three nodes, one operator peer.
export const OPERATOR_KEY =
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEXZOHGwGJeHtlDjlaFAMCM0/fzBcz7YbrD5Y/JrOiZX operator@example";
/** Where the operator reaches new hosts from (TEST-NET-2). */
export const OPERATOR_NETWORK = "198.51.100.0/24";
export const PEER_KEY = "cTFvXm8z6TM4q8Qb8n4hRHB1ij8o9y/qIH+Z0sWWUS4=";
export const SHA = "a".repeat(64);
export const HOST_KEY =
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGb5zPl6Cpc5I+0uqLo6bsdOAfJvl0hEKyJL3LAUcme9";

/** A nixpkgs pin of the right shape for test fleets (no such commit exists). */
export const NIXPKGS = {
  branch: "nixos-26.05",
  rev: "0123456789abcdef0123456789abcdef01234567",
  sha256: "1f1kg9s885kgzrgw2n6k7fgxidf4lfxg57f6rpgavh5sjkv48cdy",
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Raw = any;

export function smallFleet(): Raw {
  return {
    mesh: { name: "test", cidr: "10.20.0.0/24", listenPort: 51820, topology: "hub-spoke" },
    ssh: {
      adminUser: "ops",
      authorizedKeys: [OPERATOR_KEY],
      allowFrom: ["group:operators"],
      firstContactFrom: [OPERATOR_NETWORK],
    },
    dns: { zones: ["example.com"] },
    nixpkgs: { ...NIXPKGS },
    peers: [{ name: "laptop", group: "operators", meshIp: "10.20.0.100", publicKey: PEER_KEY }],
    nodes: [
      {
        name: "hub",
        provider: "vultr",
        region: "fra",
        plan: "vc2-1c-1gb",
        os: "nixos",
        id: 1,
        roles: ["hub"],
      },
      {
        name: "web",
        provider: "existing",
        region: "home",
        os: "debian",
        publicIp: "198.51.100.20",
        sshHostKey: HOST_KEY,
        id: 2,
        roles: ["vault"],
        dnsName: "web.example.com",
        vault: { binaryUrl: "https://example.com/vault", binarySha256: SHA },
      },
      {
        name: "gpu",
        provider: "existing",
        region: "office",
        os: "ubuntu",
        publicIp: null,
        sshHostKey: HOST_KEY,
        id: 3,
        roles: ["ollama"],
        ollama: { models: [{ name: "qwen2.5-coder:3b", purpose: "coding" }] },
      },
    ],
    access: [{ from: ["group:operators"], to: ["role:ollama"], tcp: [11434] }],
  };
}

/**
 * A fleet that uses every feature at once, so the real-tool suites see each rendering path:
 * a NixOS hub that forwards, break-glass SSH, UDP and ping rules, an entry node, a node
 * behind NAT, and a k3s server with an agent over VXLAN.
 */
export function allFeaturesFleet(): Raw {
  return {
    mesh: { name: "features", cidr: "10.77.0.0/24", listenPort: 51820, topology: "hub-spoke" },
    ssh: {
      adminUser: "ops",
      port: 2222,
      authorizedKeys: [OPERATOR_KEY],
      allowFrom: ["group:operators"],
      breakGlassCidrs: ["198.51.100.7/32"],
      firstContactFrom: [OPERATOR_NETWORK],
    },
    dns: { zones: ["example.com", "example.net"] },
    nixpkgs: { ...NIXPKGS },
    peers: [
      { name: "op", group: "operators", meshIp: "10.77.0.200", publicKey: PEER_KEY },
      {
        name: "cam",
        group: "clients",
        meshIp: "10.77.0.201",
        publicKey: "UtWqEzp5jfvk25y3wVkFs4SMO0lj7EyUJt1fqMBWxkI=",
      },
    ],
    nodes: [
      {
        name: "hub",
        provider: "existing",
        region: "lab",
        os: "nixos",
        publicIp: "198.51.100.1",
        sshHostKey: HOST_KEY,
        id: 1,
        roles: ["hub", "vault"],
        dnsName: "hub.example.com",
        vault: { binaryUrl: "https://example.com/v", binarySha256: SHA },
      },
      {
        name: "door",
        provider: "vultr",
        region: "ams",
        plan: "vc2-1c-1gb",
        os: "debian",
        id: 2,
        roles: ["entry"],
        publicTcpPorts: [8443],
        publicUdpPorts: [3478],
      },
      {
        name: "kube",
        provider: "aws",
        region: "eu-central-1",
        instanceType: "t3.medium",
        os: "nixos",
        id: 3,
        roles: ["k3s-server"],
        k3s: { flannelBackend: "vxlan", ingressHosts: ["app.example.net"] },
      },
      {
        name: "worker",
        provider: "existing",
        region: "lab",
        os: "nixos",
        publicIp: null,
        sshHostKey: HOST_KEY,
        id: 4,
        roles: ["k3s-agent", "ollama"],
        ollama: { models: [{ name: "llama3.1:8b", purpose: "heavy" }] },
      },
      {
        name: "nest",
        provider: "existing",
        region: "attic",
        os: "alpine",
        publicIp: null,
        sshHostKey: HOST_KEY,
        id: 5,
      },
    ],
    access: [
      { from: ["group:clients"], to: ["node:worker"], tcp: [11434], udp: [5353], ping: true },
      { from: ["node:nest"], to: ["role:k3s-server"], udp: [9000, 9001] },
      { from: ["*"], to: ["node:nest"], ping: true },
    ],
  };
}
