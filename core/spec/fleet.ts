// The validated fleet: what validate.ts returns and everything downstream reads. Vocabularies
// are narrowed, mesh IPs resolved, selectors parsed, lists sorted by name.
import type { Os, OllamaPurpose, Provider, Role, SensitiveExposure, Topology } from "./catalog";
import type { K3sSettings, VaultSettings } from "./schema";

/** How a node is reached from the internet. */
export type PublicAddress =
  | { readonly kind: "static"; readonly ip: string }
  | { readonly kind: "cloud" }
  | { readonly kind: "nat" };

export interface OllamaModel {
  readonly name: string;
  readonly purpose?: OllamaPurpose;
}

export interface FleetNode {
  readonly name: string;
  readonly provider: Provider;
  readonly region: string;
  readonly os: Os;
  readonly plan?: string;
  readonly instanceType?: string;
  readonly address: PublicAddress;
  readonly meshIp: string;
  readonly roles: readonly Role[];
  readonly dnsName?: string;
  readonly publicTcpPorts: readonly number[];
  readonly publicUdpPorts: readonly number[];
  readonly allowPublic: readonly SensitiveExposure[];
  readonly ollama?: { readonly models: readonly OllamaModel[] };
  readonly vault?: VaultSettings;
  readonly k3s?: K3sSettings;
  readonly aws?: { readonly rootVolumeGb: number };
  readonly nixosStateVersion: string;
}

export interface Peer {
  readonly name: string;
  readonly publicKey: string;
  readonly meshIp: string;
  readonly group: string;
}

export type Selector =
  | { readonly kind: "all" }
  | { readonly kind: "group" | "peer" | "node" | "role"; readonly name: string };

export interface AccessRule {
  readonly from: readonly Selector[];
  readonly to: readonly Selector[];
  readonly tcp: readonly number[];
  readonly udp: readonly number[];
  readonly ping: boolean;
  readonly description?: string;
}

export interface Fleet {
  readonly mesh: {
    readonly name: string;
    readonly cidr: string;
    readonly listenPort: number;
    readonly topology: Topology;
  };
  readonly ssh: {
    readonly adminUser: string;
    readonly port: number;
    readonly authorizedKeys: readonly string[];
    readonly breakGlassCidrs: readonly string[];
    readonly allowFrom: readonly Selector[];
    readonly identityFile: string;
  };
  readonly dns?: { readonly zones: readonly string[] };
  readonly nodes: readonly FleetNode[];
  readonly peers: readonly Peer[];
  readonly access: readonly AccessRule[];
}

export function hasRole(node: FleetNode, role: Role): boolean {
  return node.roles.includes(role);
}

export function hasPublicAddress(node: FleetNode): boolean {
  return node.address.kind !== "nat";
}

/** Public SSH is the entry role's job, or an explicit, allowed public port. */
export function publicSsh(node: FleetNode, sshPort: number): boolean {
  return (
    node.roles.includes("entry") ||
    (node.allowPublic.includes("ssh") && node.publicTcpPorts.includes(sshPort))
  );
}
