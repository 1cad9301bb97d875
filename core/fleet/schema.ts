// The shape of the `fleet` object in a stack file. Zod checks only structure here (types,
// required fields, unknown keys); words from closed vocabularies are plain strings at this
// level so that one misspelt provider does not hide every other problem in the file.
// validate.ts checks meaning and narrows the types.
import { z } from "zod";
import { NIXOS_RELEASE } from "./catalog";

const port = z.number().int();
const ports = z.array(port).default([]);

export const meshSchema = z
  .object({
    name: z.string(),
    cidr: z.string(),
    listenPort: port.default(51820),
    topology: z.string(),
  })
  .strict();

export const sshSchema = z
  .object({
    adminUser: z.string(),
    port: port.default(22),
    authorizedKeys: z.array(z.string()),
    breakGlassCidrs: z.array(z.string()).default([]),
    /** Networks the operator's machine reaches new hosts from, before the mesh exists. */
    firstContactFrom: z.array(z.string()).default([]),
    /** Mesh sources allowed to SSH into every node, besides entry nodes (ProxyJump). */
    allowFrom: z.array(z.string()).default(["group:operators"]),
    identityFile: z.string().default("~/.ssh/id_ed25519"),
  })
  .strict();

/** Cloudflare zones this fleet's names live in; each name goes to the zone that ends it. */
export const dnsSchema = z.object({ zones: z.array(z.string()) }).strict();

export const ollamaSchema = z
  .object({
    models: z.array(z.object({ name: z.string(), purpose: z.string().optional() }).strict()),
  })
  .strict();

export const vaultSchema = z
  .object({
    /** Where the node downloads the service binary from (https URL) and its sha256. */
    binaryUrl: z.string(),
    binarySha256: z.string(),
    dataDir: z.string().default("/var/lib/clavitor"),
    memoryMax: z.string().default("256M"),
    tasksMax: z.number().int().default(64),
    /** Seconds between push-to-Kuma heartbeats (seed 001: 30). */
    heartbeatSeconds: z.number().int().default(30),
    /** systemd calendar expression for `PRAGMA integrity_check`. */
    integrityCheck: z.string().default("daily"),
    healthPath: z.string().default("/health"),
  })
  .strict();

export const k3sSchema = z
  .object({
    flannelBackend: z.string().default("host-gw"),
    clusterCidr: z.string().default("10.42.0.0/16"),
    serviceCidr: z.string().default("10.43.0.0/16"),
    disable: z.array(z.string()).default(["traefik", "servicelb"]),
    writeKubeconfigMode: z.string().default("0600"),
    nodeLabels: z.array(z.string()).default([]),
    /** Names that must be in the API certificate besides the mesh and public address. */
    tlsSans: z.array(z.string()).default([]),
    /** Hostnames under dns.zone that point at the server (seed 003's ingress names). */
    ingressHosts: z.array(z.string()).default([]),
    snapshotSchedule: z.string().default("daily"),
    /** Raised by one to rotate the cluster's join token (components/k3sCluster.ts). */
    tokenGeneration: z.number().default(0),
  })
  .strict();

export const awsSchema = z
  .object({
    rootVolumeGb: z.number().int().default(30),
  })
  .strict();

export const nodeSchema = z
  .object({
    name: z.string(),
    provider: z.string(),
    region: z.string(),
    os: z.string(),
    /** Vultr plan id, such as vc2-1c-1gb. */
    plan: z.string().optional(),
    /** AWS instance type, such as t3.medium. */
    instanceType: z.string().optional(),
    /** Existing hosts only: the address the host is reached at, or null behind NAT. */
    publicIp: z.union([z.string(), z.null()]).optional(),
    /** Behind NAT: where the operator's machine reaches its SSH for first contact (host[:port]). */
    firstContactAddress: z.string().optional(),
    /** Existing hosts only: their Ed25519 host key ("ssh-ed25519 AAAA…"), pinned on connect. */
    sshHostKey: z.string().optional(),
    meshIp: z.string().optional(),
    /** A stable per-node number: meshIp = network address + id. */
    id: z.number().int().optional(),
    roles: z.array(z.string()).default([]),
    dnsName: z.string().optional(),
    publicTcpPorts: ports,
    publicUdpPorts: ports,
    /** Explicit consent for ports that are mesh-only unless said otherwise. */
    allowPublic: z.array(z.string()).default([]),
    ollama: ollamaSchema.optional(),
    vault: vaultSchema.optional(),
    k3s: k3sSchema.optional(),
    aws: awsSchema.optional(),
    /** The release the host was installed with; never changes once the host exists. */
    nixosStateVersion: z.string().default(NIXOS_RELEASE),
    /** The node's name before a rename: its server, keys and records carry over. */
    formerName: z.string().optional(),
    /** Raised by one to rotate the node's WireGuard key (0: the key it was created with). */
    wireguardKeyGeneration: z.number().default(0),
    /** Lets a change replace the server of a node that holds state (vault, k3s server). */
    allowReplace: z.boolean().default(false),
    /** An existing host leaving the mesh: given back as first contact found it. */
    decommission: z.boolean().default(false),
  })
  .strict();

/** The nixpkgs every NixOS node builds from: a commit of a release branch and its hash. */
export const nixpkgsSchema = z
  .object({
    branch: z.string(),
    rev: z.string(),
    sha256: z.string(),
  })
  .strict();

export const peerSchema = z
  .object({
    name: z.string(),
    publicKey: z.string(),
    meshIp: z.string(),
    group: z.string(),
  })
  .strict();

export const accessRuleSchema = z
  .object({
    from: z.array(z.string()),
    to: z.array(z.string()),
    tcp: ports,
    udp: ports,
    ping: z.boolean().default(false),
    description: z.string().optional(),
  })
  .strict();

/** Sections are parsed one by one (see validate.ts), so the top level holds raw arrays. */
export const fleetShape = z
  .object({
    mesh: z.unknown(),
    ssh: z.unknown(),
    dns: z.unknown().optional(),
    nixpkgs: z.unknown().optional(),
    nodes: z.array(z.unknown()),
    peers: z.array(z.unknown()).default([]),
    access: z.array(z.unknown()).default([]),
  })
  .strict();

export type MeshInput = z.infer<typeof meshSchema>;
export type SshInput = z.infer<typeof sshSchema>;
export type NodeInput = z.infer<typeof nodeSchema>;
export type NixpkgsInput = z.infer<typeof nixpkgsSchema>;
export type PeerInput = z.infer<typeof peerSchema>;
export type AccessRuleInput = z.infer<typeof accessRuleSchema>;
export type OllamaSettings = z.infer<typeof ollamaSchema>;
export type VaultSettings = z.infer<typeof vaultSchema>;
export type K3sSettings = z.infer<typeof k3sSchema>;
