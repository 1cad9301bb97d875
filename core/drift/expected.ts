// What the program renders for each node, from the stack file and the facts only a deployment
// knows (each node's WireGuard public key and public address, from the stack's `nodes`
// output): the same planNode → renderBundle → bundleHash the push's trigger is made of.
import type { Fleet } from "../fleet/fleet";
import type { Deployment } from "../plan/deployment";
import { planNode } from "../plan/plan";
import { renderBundle } from "../render/bundle";
import { bundleHash } from "../render/pushArchive";

export interface DeployedNode {
  readonly wgPublicKey: string;
  readonly publicIpv4: string | null;
}

export function expectedDigests(
  fleet: Fleet,
  deployed: Readonly<Record<string, DeployedNode | undefined>>,
): Map<string, string> {
  const missing = fleet.nodes.filter((n) => !deployed[n.name]).map((n) => n.name);
  if (missing.length > 0) {
    throw new Error(
      `the stack's outputs have no node ${missing.join(", ")}: run \`pulumi up\` once so it exists before checking it for drift`,
    );
  }
  const of = (name: string) => deployed[name] as DeployedNode;
  const deployment: Deployment = {
    publicKeyOf: (name) => of(name).wgPublicKey,
    cloudIpOf: (name) => of(name).publicIpv4 ?? "",
  };
  return new Map(
    fleet.nodes.map((node) => [
      node.name,
      bundleHash(Object.fromEntries(renderBundle(planNode(fleet, node, deployment)))),
    ]),
  );
}
