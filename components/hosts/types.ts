import { createHash } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";
import type { FleetNode, NixpkgsPin } from "../../core/fleet/fleet";
import type { CloudContext } from "../cloud";
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

/**
 * A server whose node holds state (a vault's data, k3s's datastore) is protected: a change that
 * would replace it fails, naming the field, unless the node says `allowReplace`.
 */
export function holdsState(node: FleetNode): boolean {
  return node.roles.some((r) => r === "vault" || r === "k3s-server") && !node.allowReplace;
}

/** What a NixOS host is installed with, for its first-boot user data. */
export function install(args: HostArgs): NixosInstall | undefined {
  return args.nixos && { branch: args.nixos.pin.branch, stateVersion: args.nixos.stateVersion };
}

export interface Host {
  /**
   * Which machine this is: the instance's id for a created host. A new machine — replaced by
   * its provider, even at the same address (an Elastic IP) — gets first contact again.
   */
  readonly machine: pulumi.Output<string>;
  readonly publicIpv4: pulumi.Output<string | null>;
  readonly publicIpv6: pulumi.Output<string | null>;
  /** The resources a push must wait for. */
  readonly resources: readonly pulumi.Resource[];
}

/** What the program does for one provider's hosts (components/hosts/drivers.ts). */
export interface HostDriver {
  /** The host's resources: none for a host that already exists. */
  create(args: HostArgs, cloud: CloudContext): Host;
  /** The account the host first lets the operator's key into, for first contact. */
  firstUser(node: FleetNode, adminUser: string): string;
  /** Whether its hosts have a public IPv6 address worth a DNS record. */
  readonly ipv6: boolean;
}

export interface PortRule {
  readonly protocol: "tcp" | "udp";
  readonly port: number;
  /** Networks allowed; everyone when absent. */
  readonly cidr?: string;
  /** What the rule is for, as the provider's note shows it. */
  readonly note: string;
}

/**
 * The provider firewall of a created host: the host firewall's public rules, and SSH from the
 * operator's networks, which first contact needs before the mesh exists (the host's own
 * firewall closes it again once a push over the mesh is proven). A network in both lists is
 * one rule.
 */
function publicRules(firewall: FirewallPolicy): PortRule[] {
  const rules = new Map<string, PortRule>();
  const add = (rule: PortRule) => {
    const key = `${rule.protocol}/${rule.port}/${rule.cidr ?? ""}`;
    const seen = rules.get(key);
    rules.set(key, seen ? { ...seen, note: `${seen.note}, ${rule.note}` } : rule);
  };
  for (const port of firewall.publicTcpPorts)
    add({ protocol: "tcp", port, note: "public by role" });
  for (const port of firewall.publicUdpPorts)
    add({ protocol: "udp", port, note: "public by role" });
  for (const b of firewall.breakGlass) {
    for (const port of b.tcpPorts)
      add({ protocol: "tcp", port, cidr: b.cidr, note: "break-glass SSH" });
  }
  for (const cidr of firewall.firstContact.cidrs) {
    for (const port of firewall.firstContact.tcpPorts) {
      add({ protocol: "tcp", port, cidr, note: "first contact SSH" });
    }
  }
  return [...rules.values()].sort(
    (a, b) =>
      a.protocol.localeCompare(b.protocol) ||
      a.port - b.port ||
      (a.cidr ?? "").localeCompare(b.cidr ?? ""),
  );
}

/** What a shared firewall is made from: its resource name, its rules, what it opens. */
export interface SharedFirewall {
  /** `<mesh>[-<region>]-public-<8 hex of the rules>`. */
  readonly name: string;
  readonly rules: readonly PortRule[];
  /** What it opens, for its description: `tcp 22, 80, 443`. */
  readonly summary: string;
}

/**
 * The provider firewall for the node's public rules, declared by `make` once for every node
 * (of `region`, where the provider's firewalls are regional) with the same rules. A node whose
 * roles change moves to the firewall of its new rules; a firewall no node uses any more is
 * deleted. Its rules never change: other rules make another firewall.
 */
export function sharedFirewall<T>(
  args: HostArgs,
  cloud: CloudContext,
  where: { readonly provider: string; readonly region?: string },
  make: (firewall: SharedFirewall, parent: pulumi.Resource) => T,
): T {
  const rules = publicRules(args.firewall);
  const key = JSON.stringify(rules.map((r) => [r.protocol, r.port, r.cidr ?? "", r.note]));
  const id = createHash("sha256").update(key).digest("hex").slice(0, 8);
  const scope = where.region ? `${args.mesh}-${where.region}` : args.mesh;
  return cloud.shared(`${where.provider} firewall ${where.region ?? ""} ${key}`, (parent) =>
    make({ name: `${scope}-public-${id}`, rules, summary: summaryOf(rules) }, parent),
  );
}

function summaryOf(rules: readonly PortRule[]): string {
  const ports = (protocol: string) => [
    ...new Set(rules.filter((r) => r.protocol === protocol).map((r) => r.port)),
  ];
  return (["tcp", "udp"] as const)
    .map((p) => (ports(p).length > 0 ? `${p} ${ports(p).join(", ")}` : ""))
    .filter(Boolean)
    .join("; ");
}
