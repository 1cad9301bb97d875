// The node model: everything a renderer needs to know about one node, as plain data. Every
// renderer (wg-quick, sshd_config, nftables, NixOS) reads this and nothing else, so the
// renderings cannot disagree about the policy.
import type { Os, Provider, Role, Topology } from "../fleet/catalog";
import type { NixpkgsPin } from "../fleet/fleet";
import type { HardeningPlan, OllamaPlan, VaultPlan } from "./roles";

export interface WgPeer {
  readonly name: string;
  readonly publicKey: string;
  readonly allowedIps: readonly string[];
  /** host:port, only when the other side has a public address to dial. */
  readonly endpoint?: string;
  /** Seconds; set when this side is behind NAT or a spoke, so it keeps the path open. */
  readonly persistentKeepalive?: number;
}

export interface WireGuardPlan {
  readonly interface: string;
  /** The node's mesh address with the mesh prefix, e.g. 10.84.0.2/24. */
  readonly address: string;
  /** The listen port: the mesh's, on every node (see planWireGuard). */
  readonly listenPort: number;
  readonly privateKeyFile: string;
  /** Hubs route spoke-to-spoke traffic. */
  readonly forwarding: boolean;
  readonly peers: readonly WgPeer[];
  /** A spoke's hub: the one peer whose handshake proves the spoke's tunnel. */
  readonly hub: string | null;
}

/** One source's allowance on this node's mesh interface. */
export interface MeshAccess {
  readonly from: string;
  readonly fromIp: string;
  readonly tcpPorts: readonly number[];
  readonly udpPorts: readonly number[];
  readonly ping: boolean;
}

/** What a set rule matches besides addresses: TCP or UDP ports, or an echo request. */
export type PortGroup =
  { readonly kind: "tcp" | "udp"; readonly ports: readonly number[] } | { readonly kind: "ping" };

/** One nftables accept rule over sets of addresses (core/plan/firewallSets.ts). */
export interface SetRule {
  readonly match: PortGroup;
  /** Source addresses or networks (one or more). */
  readonly from: readonly string[];
  /** Forwarded traffic only: destination addresses. */
  readonly to?: readonly string[];
}

export interface FirewallPolicy {
  /** Open to everyone, on every interface. */
  readonly publicTcpPorts: readonly number[];
  readonly publicUdpPorts: readonly number[];
  /** SSH from these networks on the public side, for when the mesh is down. */
  readonly breakGlass: readonly { readonly cidr: string; readonly tcpPorts: readonly number[] }[];
  /**
   * First contact only (the bootstrap variant of the firewall, and the provider firewall of a
   * created host): SSH from these networks, or from anywhere when there are none.
   */
  readonly firstContact: {
    readonly cidrs: readonly string[];
    readonly tcpPorts: readonly number[];
  };
  /** Per-source allowances on the WireGuard interface; nothing else is open there. */
  readonly meshAccess: readonly MeshAccess[];
  /**
   * What a hub routes between members, as set rules: a rule per port group and set of sources,
   * never one per pair of members, so it grows with the fleet by set elements. Empty unless
   * the node is a hub.
   */
  readonly meshForward: readonly SetRule[];
  /** Interfaces whose traffic is accepted wholesale (k3s pod networks). */
  readonly trustedInterfaces: readonly string[];
  /**
   * Cloud hosts: only root may reach the provider's metadata service. Their user data holds
   * the SSH host key the program pinned; a local user or service must not read it there.
   */
  readonly metadataRootOnly: boolean;
}

export type SshValue = string | number | boolean | readonly string[];

export interface SshdPlan {
  readonly port: number;
  /** Addresses sshd binds; empty means every address (public SSH or break-glass). */
  readonly listenAddresses: readonly string[];
  readonly hostKey: string;
  readonly adminUser: string;
  readonly authorizedKeys: readonly string[];
  /** The hardening table, in sshd_config keywords (spelled as NixOS names its options). */
  readonly settings: readonly (readonly [string, SshValue])[];
}

export interface NodeModel {
  readonly name: string;
  readonly mesh: { readonly name: string; readonly cidr: string; readonly topology: Topology };
  readonly provider: Provider;
  readonly region: string;
  readonly os: Os;
  readonly roles: readonly Role[];
  readonly meshIp: string;
  /** The address the internet reaches the node at; null behind NAT. */
  readonly publicIp: string | null;
  readonly dnsName: string | null;
  readonly wireguard: WireGuardPlan;
  readonly ssh: SshdPlan;
  readonly firewall: FirewallPolicy;
  readonly ollama: OllamaPlan | null;
  readonly vault: VaultPlan | null;
  readonly k3s: K3sPlan | null;
  readonly hardening: HardeningPlan;
  /** Kernel settings (sysctl keys), sorted by key. */
  readonly sysctl: readonly (readonly [string, number])[];
  /** NixOS nodes: the release the host was installed with, and the stack's one nixpkgs. */
  readonly nixos: NixosPlan | null;
}

export interface NixosPlan {
  readonly stateVersion: string;
  readonly nixpkgs: NixpkgsPin;
}

export type K3sValue = string | readonly string[];

export const K3S_NODE_ROLES = ["server", "agent"] as const;

export interface K3sPlan {
  readonly role: (typeof K3S_NODE_ROLES)[number];
  /** Agents: the server's API on the mesh, which they join; null on the server. */
  readonly serverUrl: string | null;
  /** Mode-0600 file with the join token (a Pulumi secret, pushed over stdin). */
  readonly tokenFile: string;
  /**
   * k3s's settings by flag name (the keys of its config.yaml), the same on NixOS and
   * elsewhere. Repeatable flags (tls-san, node-label, disable) are lists, the rest one value.
   */
  readonly settings: readonly (readonly [string, K3sValue])[];
  /** Server only: systemd calendar expression of the datastore snapshot timer. */
  readonly snapshotSchedule: string | null;
  /** Server only: DNS names of the ingress (seed 003's app, api, proxy, nango). */
  readonly ingressHosts: readonly string[];
}

export interface FleetPlan {
  readonly mesh: {
    readonly name: string;
    readonly cidr: string;
    readonly topology: Topology;
    readonly listenPort: number;
  };
  readonly nodes: readonly NodeModel[];
}
