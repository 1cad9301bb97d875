// nftables.conf for hosts that are not NixOS. It replaces only its own table, so rules of
// other software (Docker, k3s) stay; a drop in any table is final, so ours still holds.
// The chains mirror the NixOS firewall (networking.nftables) so both mean the same thing.
import { meshInputSets, type SetRule } from "../plan/firewallSets";
import type { FirewallPolicy, NodeModel } from "../plan/model";
import { header } from "./header";

export const NFT_TABLE = "clawd_mesh";
/** Where Vultr and AWS serve instance metadata and user data (link-local). */
export const METADATA_ADDRESS = "169.254.169.254";

const set = (values: readonly (string | number)[]) =>
  values.length === 1 ? String(values[0]) : `{ ${values.join(", ")} }`;
const quoted = (names: readonly string[]) => set(names.map((n) => `"${n}"`));

/** Accept lines for one source: TCP ports, UDP ports, ping. Shared with the NixOS module. */
export function allowLines(
  match: string,
  tcp: readonly number[],
  udp: readonly number[],
  ping: boolean,
): string[] {
  return [
    ...(tcp.length > 0 ? [`${match} tcp dport ${set(tcp)} accept`] : []),
    ...(udp.length > 0 ? [`${match} udp dport ${set(udp)} accept`] : []),
    ...(ping ? [`${match} icmp type echo-request accept`] : []),
  ];
}

/** First contact: SSH from the operator's networks until a push over the mesh closes it. */
export function firstContactLines(fw: FirewallPolicy): string[] {
  const { cidrs, tcpPorts } = fw.firstContact;
  const from = cidrs.length > 0 ? `ip saddr ${set(cidrs)} ` : "";
  return [
    `${from}tcp dport ${set(tcpPorts)} accept comment "first contact, until the mesh is proven"`,
  ];
}

/**
 * Ping is a mesh permission (meshAccess), and the mesh is IPv4: an IPv6 echo request from
 * anywhere but a trusted interface is dropped, as an IPv4 one is. The rest of ICMPv6 (neighbour
 * discovery, path MTU) is accepted, as NixOS's firewall does.
 */
export const ICMPV6_ECHO_DROP = "icmpv6 type echo-request drop";

export function inputAllowLines(fw: FirewallPolicy, wgInterface: string): string[] {
  return [
    ICMPV6_ECHO_DROP,
    `icmpv6 type != { nd-redirect, 139 } accept`,
    `ip6 daddr fe80::/64 udp dport 546 accept`,
    `iifname "${wgInterface}" jump mesh_input`,
    ...(fw.publicTcpPorts.length > 0 ? [`tcp dport ${set(fw.publicTcpPorts)} accept`] : []),
    ...(fw.publicUdpPorts.length > 0 ? [`udp dport ${set(fw.publicUdpPorts)} accept`] : []),
    ...fw.breakGlass.flatMap((b) => allowLines(`ip saddr ${b.cidr}`, b.tcpPorts, [], false)),
  ];
}

/** One accept line of a set rule: `ip saddr { … } [ip daddr { … }] tcp dport { … } accept`. */
function setRuleLine(r: SetRule): string {
  const addresses = `ip saddr ${set(r.from)}${r.to ? ` ip daddr ${set(r.to)}` : ""}`;
  const match =
    r.match.kind === "ping"
      ? "icmp type echo-request"
      : `${r.match.kind} dport ${set(r.match.ports)}`;
  return `${addresses} ${match} accept`;
}

export function meshInputLines(fw: FirewallPolicy): string[] {
  return meshInputSets(fw).map(setRuleLine);
}

export function meshForwardLines(fw: FirewallPolicy): string[] {
  return fw.meshForward.map(setRuleLine);
}

/** The provider's metadata service (user data, credentials) answers root alone. */
export function metadataLines(): string[] {
  return [
    "type filter hook output priority filter; policy accept;",
    `ip daddr ${METADATA_ADDRESS} meta skuid != 0 drop`,
  ];
}

const STATE_VMAP = (next: string) =>
  `ct state vmap { invalid : drop, established : accept, related : accept, new : jump ${next}, untracked : jump ${next} }`;

function chain(name: string, body: readonly string[]): string[] {
  return [`\tchain ${name} {`, ...body.map((l) => (l === "" ? "" : `\t\t${l}`)), "\t}"];
}

export interface Variant {
  /** The first-contact variant, installed over the public address before the mesh exists. */
  readonly bootstrap?: boolean;
}

export function renderNftables(node: NodeModel, variant: Variant = {}): string {
  const fw = node.firewall;
  const wg = node.wireguard.interface;
  const trusted = ["lo", ...fw.trustedInterfaces];
  const hub = node.wireguard.forwarding;
  const chains = [
    ...chain("input", [
      "type filter hook input priority filter; policy drop;",
      `iifname ${quoted(trusted)} accept`,
      STATE_VMAP("input_allow"),
    ]),
    "",
    ...chain("input_allow", [
      ...inputAllowLines(fw, wg),
      ...(variant.bootstrap ? firstContactLines(fw) : []),
    ]),
    "",
    ...chain("mesh_input", meshInputLines(fw)),
  ];
  if (fw.metadataRootOnly) {
    chains.push("", ...chain("output", metadataLines()));
  }
  if (hub) {
    chains.push(
      "",
      ...chain("forward", [
        "type filter hook forward priority filter; policy drop;",
        ...(fw.trustedInterfaces.length > 0
          ? [
              `iifname ${quoted(fw.trustedInterfaces)} accept`,
              `oifname ${quoted(fw.trustedInterfaces)} accept`,
            ]
          : []),
        STATE_VMAP("forward_allow"),
      ]),
      "",
      ...chain("forward_allow", [`iifname "${wg}" oifname "${wg}" jump mesh_forward`]),
      "",
      ...chain("mesh_forward", meshForwardLines(fw)),
    );
  }
  return [
    "#!/usr/sbin/nft -f",
    header(node, "Firewall"),
    "",
    `table inet ${NFT_TABLE}`,
    `delete table inet ${NFT_TABLE}`,
    "",
    `table inet ${NFT_TABLE} {`,
    ...chains,
    "}",
    "",
  ].join("\n");
}
