// A Clavitor vault node (seed 001): its service environment, with the push-to-Kuma URL kept
// secret, delivered in the node's push as a mode-0600 EnvironmentFile.
import * as pulumi from "@pulumi/pulumi";
import type { VaultSettings } from "../core/fleet/schema";
import type { SecretFiles } from "../core/render/pushArchive";
import type { MeshNode } from "./meshNode";

export interface VaultNodeArgs {
  readonly node: MeshNode;
  readonly settings: VaultSettings;
  /** The node's Kuma push URL (a secret); without one the node sends no heartbeat. */
  readonly kumaPushUrl?: pulumi.Output<string | undefined>;
}

export class VaultNode extends pulumi.ComponentResource {
  readonly nodeName: string;
  /** The health endpoint on the mesh address, for operators and rollouts. */
  readonly healthUrl: string;
  readonly secretFiles: pulumi.Output<SecretFiles>;

  constructor(name: string, args: VaultNodeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("clawd-mesh:roles:VaultNode", name, {}, opts);
    const { node, settings } = args;
    this.nodeName = node.spec.name;
    this.healthUrl = `http://${node.meshIp}${settings.healthPath}`;
    const url = args.kumaPushUrl ?? pulumi.output(undefined);
    this.secretFiles = pulumi.secret(
      url.apply((kuma): SecretFiles => ({
        "clavitor.env": [
          `CLAVITOR_NODE=${node.spec.name}`,
          `CLAVITOR_DATA_DIR=${settings.dataDir}`,
          `CLAVITOR_HEARTBEAT_SECONDS=${settings.heartbeatSeconds}`,
          ...(kuma ? [`CLAVITOR_KUMA_PUSH_URL=${kuma}`] : []),
          "",
        ].join("\n"),
      })),
    );
    this.registerOutputs({ healthUrl: this.healthUrl });
  }
}
