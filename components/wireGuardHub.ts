// The hub of a hub-and-spoke mesh: what spokes and peers need to dial it. Its node's push runs
// before the pushes of the spokes reached through it (the Fleet orders them), so a new spoke is
// never pushed through a hub that has not learnt its key.
import * as pulumi from "@pulumi/pulumi";
import type { Fleet } from "../core/fleet/fleet";
import type { MeshNode } from "./meshNode";

export interface WireGuardHubArgs {
  readonly fleet: Fleet;
  readonly node: MeshNode;
}

export class WireGuardHub extends pulumi.ComponentResource {
  /** host:port that spokes dial. */
  readonly endpoint: pulumi.Output<string>;
  readonly publicKey: pulumi.Output<string>;
  readonly cidr: string;

  constructor(name: string, args: WireGuardHubArgs, opts?: pulumi.ComponentResourceOptions) {
    super("clawd-mesh:mesh:WireGuardHub", name, {}, opts);
    this.endpoint = pulumi.interpolate`${args.node.publicIpv4}:${args.fleet.mesh.listenPort}`;
    this.publicKey = args.node.wgPublicKey;
    this.cidr = args.fleet.mesh.cidr;
    this.registerOutputs({ endpoint: this.endpoint, publicKey: this.publicKey, cidr: this.cidr });
  }
}
