// What planning needs from the outside world: each node's WireGuard public key and the
// public IPv4 the cloud gave each cloud node. The Pulumi program supplies the real values;
// synth supplies placeholders, so both go through the same planner and renderers.
import { createHash } from "node:crypto";
import type { Fleet, FleetNode } from "../fleet/fleet";
import { formatIpv4, parseCidr, parseIpv4 } from "../net/ipv4";

export interface Deployment {
  readonly publicKeyOf: (node: string) => string;
  readonly cloudIpOf: (node: string) => string;
}

/** The address the internet reaches a node at, or null behind NAT. */
export function publicIpOf(node: FleetNode, deployment: Deployment): string | null {
  switch (node.address.kind) {
    case "static":
      return node.address.ip;
    case "cloud":
      return deployment.cloudIpOf(node.name);
    case "nat":
      return null;
    default: {
      const exhaustive: never = node.address;
      return exhaustive;
    }
  }
}

export const TEST_NET_3 = "203.0.113.0/24";

/**
 * Placeholders for synth. Public keys are sha256 digests, so they are valid WireGuard keys
 * that match no private key anyone holds. Cloud addresses come from TEST-NET-3 and follow the
 * node's mesh host number, so adding a node never changes another node's placeholder.
 */
export function placeholderDeployment(fleet: Fleet): Deployment {
  const mesh = parseCidr(fleet.mesh.cidr);
  const base = parseIpv4("203.0.113.0") ?? 0;
  const byName = new Map(fleet.nodes.map((n) => [n.name, n]));
  return {
    publicKeyOf: (name) =>
      createHash("sha256")
        .update(`clawd-mesh synth placeholder public key: ${name}`)
        .digest("base64"),
    cloudIpOf: (name) => {
      const host = (parseIpv4(byName.get(name)?.meshIp ?? "") ?? 0) - (mesh?.network ?? 0);
      return formatIpv4(base + ((((host - 1) % 254) + 254) % 254) + 1);
    },
  };
}
