import type * as pulumi from "@pulumi/pulumi";
import type { FleetNode, NixpkgsPin } from "../../core/fleet/fleet";
import type { FirewallPolicy } from "../../core/plan/model";
import type { HostIdentity, NixosInstall } from "../../core/render/userData";

export interface HostArgs {
  readonly name: string;
  readonly mesh: string;
  readonly node: FleetNode;
  /** The node's public ports: the provider's firewall opens exactly these. */
  readonly firewall: FirewallPolicy;
  /** Cloud hosts only: the SSH host key the program generated and pins. */
  readonly identity?: pulumi.Output<HostIdentity>;
  /** The operator's public key, for the provider's first-boot root access. */
  readonly operatorKey: string;
  readonly parent: pulumi.Resource;
  /** NixOS nodes: the stack's pin (its release picks the image) and the node's stateVersion. */
  readonly nixos?: { readonly pin: NixpkgsPin; readonly stateVersion: string };
}

/** What a NixOS host is installed with, for its first-boot user data. */
export function install(args: HostArgs): NixosInstall | undefined {
  return args.nixos && { branch: args.nixos.pin.branch, stateVersion: args.nixos.stateVersion };
}

export interface Host {
  readonly publicIpv4: pulumi.Output<string | null>;
  readonly publicIpv6: pulumi.Output<string | null>;
  /** The resources a push must wait for. */
  readonly resources: readonly pulumi.Resource[];
}

export interface PortRule {
  readonly protocol: "tcp" | "udp";
  readonly port: number;
  /** Networks allowed; everyone when absent. */
  readonly cidr?: string;
}

/** The provider-side mirror of the host firewall's public rules. */
export function publicRules(firewall: FirewallPolicy): PortRule[] {
  return [
    ...firewall.publicTcpPorts.map((port) => ({ protocol: "tcp" as const, port })),
    ...firewall.publicUdpPorts.map((port) => ({ protocol: "udp" as const, port })),
    ...firewall.breakGlass.flatMap((b) =>
      b.tcpPorts.map((port) => ({ protocol: "tcp" as const, port, cidr: b.cidr })),
    ),
  ];
}
