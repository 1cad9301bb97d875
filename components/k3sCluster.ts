// A k3s cluster over the mesh (seed 003): the server and its agents share a join token made
// here (a secret, pushed in each member's bundle; k3s.tokenGeneration rotates it); the ingress names point at the server; and
// the server's kubeconfig is read back and rewritten to the server's mesh address.
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { remote } from "@pulumi/command";
import type { Fleet } from "../core/fleet/fleet";
import type { SecretFiles } from "../core/render/pushArchive";
import { apiEndpoint } from "../core/plan/k3s";
import { KUBECONFIG_COMMAND } from "../core/delivery/command";
import { k3sTokenOfGeneration } from "../core/crypto/keys";
import type { CloudContext } from "./cloud";
import { dnsRecords } from "./dns";
import type { MeshNode } from "./meshNode";

export interface K3sClusterArgs {
  readonly fleet: Fleet;
  readonly server: MeshNode;
  readonly agents: readonly MeshNode[];
  readonly cloud: CloudContext;
}

export class K3sCluster extends pulumi.ComponentResource {
  readonly apiEndpoint: string;
  readonly kubeconfig: pulumi.Output<string | undefined>;
  /** What every member's push carries. */
  readonly secretFiles: pulumi.Output<SecretFiles>;
  readonly members: readonly string[];

  constructor(name: string, args: K3sClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("clawd-mesh:roles:K3sCluster", name, {}, opts);
    const { server } = args;
    const token = new random.RandomPassword(
      `${name}-token`,
      { length: 64, special: false },
      { parent: this },
    );
    // Raising the generation rotates the token: derived from the random one, so nothing is
    // replaced (the server's push hands the new token to the running k3s; apply.sh).
    const generation = server.spec.k3s?.tokenGeneration ?? 0;
    this.secretFiles = pulumi.secret(
      token.result.apply((t): SecretFiles => ({
        "k3s-token": `${k3sTokenOfGeneration(t, generation)}\n`,
      })),
    );
    this.members = [server.spec.name, ...args.agents.map((a) => a.spec.name)];

    const hosts = server.spec.k3s?.ingressHosts ?? [];
    dnsRecords(
      `${name}-ingress`,
      { hostnames: hosts, zones: args.fleet.dns?.zones ?? [], ipv4: server.publicIpv4 },
      args.cloud,
      this,
    );

    this.apiEndpoint = apiEndpoint(server.meshIp);
    // Read once the server is pushed; a first-contact-only run has no push and no kubeconfig.
    const pushed = server.push;
    const read = pushed
      ? new remote.Command(
          `${name}-kubeconfig`,
          {
            connection: server.connection(),
            create: KUBECONFIG_COMMAND,
            // Read again whenever the server's configuration was pushed again.
            triggers: [server.bundleHash],
            logging: "none",
          },
          {
            parent: this,
            dependsOn: [pushed],
            replaceOnChanges: ["triggers[*]"],
            additionalSecretOutputs: ["stdout"],
          },
        )
      : undefined;
    // k3s writes its own loopback address; other stacks reach the API on the mesh.
    this.kubeconfig = pulumi.secret(
      read
        ? read.stdout.apply((yaml): string | undefined =>
            yaml.replace(
              /server: https:\/\/(127\.0\.0\.1|localhost):6443/g,
              `server: ${this.apiEndpoint}`,
            ),
          )
        : pulumi.output<string | undefined>(undefined),
    );
    this.registerOutputs({ apiEndpoint: this.apiEndpoint, kubeconfig: this.kubeconfig });
  }
}
