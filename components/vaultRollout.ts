// A new vault binary goes out one node at a time (seed 001's rolling deploy): push/rollout.sh
// runs on the operator's machine, each node checks the sha256 before switching, and each must
// answer its health endpoint over the mesh before the next is touched. It stops at the first
// node that does not, which goes back to its previous binary.
import * as pulumi from "@pulumi/pulumi";
import { local } from "@pulumi/command";
import type { Fleet } from "../core/fleet/fleet";
import { managementRoute, nodesDialed } from "../core/plan/route";
import { pinnedSshDefaults, renderKnownHosts, renderSshConfig } from "../core/render/sshConfig";
import { fleetPlanOf, type FleetFacts, type SshCredentials } from "./context";
import type { MeshNode } from "./meshNode";
import { ROLLOUT_SCRIPT } from "../core/delivery/command";

export interface VaultRolloutArgs {
  readonly fleet: Fleet;
  /** The vault nodes, in rollout order, all with this binary. */
  readonly nodes: readonly MeshNode[];
  readonly binaryUrl: string;
  readonly binarySha256: string;
  readonly facts: pulumi.Output<FleetFacts>;
  readonly credentials: SshCredentials;
}

export class VaultRollout extends pulumi.ComponentResource {
  readonly command: local.Command;

  constructor(name: string, args: VaultRolloutArgs, opts?: pulumi.ComponentResourceOptions) {
    super("clawd-mesh:roles:VaultRollout", name, {}, opts);
    const { fleet } = args;
    const usesKey = "privateKey" in args.credentials;
    // Health requests go over the mesh: from here when this machine is a peer, else from the
    // entry node, which is on the mesh.
    const route = args.nodes[0] ? managementRoute(fleet, args.nodes[0].spec) : { via: "public" };
    const via = route.via === "mesh" && "jump" in route ? route.jump : undefined;
    // Only the hosts ssh dials: the vault nodes, where health requests go from, and the entry
    // nodes on the way. The whole fleet's entries made the inputs grow with every node, and
    // re-ran the rollout whenever any node's address or host key changed.
    const dialed = nodesDialed(fleet, [
      ...args.nodes.map((n) => n.spec.name),
      ...(via ? [via] : []),
    ]);
    const reached = fleet.nodes.filter((n) => dialed.has(n.name));
    // The operator's entries with the real addresses, insisting on the pinned host keys.
    const sshConfig = args.facts.apply((f) => {
      const plan = fleetPlanOf(fleet, f);
      return [
        renderSshConfig(
          fleet,
          { ...plan, nodes: plan.nodes.filter((n) => dialed.has(n.name)) },
          "yes",
        ),
        pinnedSshDefaults({
          port: fleet.ssh.port,
          ...(usesKey && { identityFile: "@DIR@/key" }),
          knownHostsFile: "@DIR@/known_hosts",
        }),
      ].join("\n");
    });
    const knownHosts = args.facts.apply((f) =>
      renderKnownHosts(
        fleet.ssh.port,
        reached.map((n) => ({
          addresses: [f[n.name]?.publicIpv4, n.meshIp].filter((a): a is string => Boolean(a)),
          hostKey: f[n.name]?.hostKey ?? "",
        })),
      ),
    );
    const entries = args.nodes.map(
      (n) => `${n.spec.name}=http://${n.meshIp}${n.spec.vault?.healthPath ?? "/health"}`,
    );
    this.command = new local.Command(
      `${name}-command`,
      {
        create: [
          "set -eu",
          "umask 077",
          "d=$(mktemp -d)",
          "trap 'rm -rf \"$d\"' EXIT",
          'printf "%s\\n" "$CLAWD_MESH_SSH_CONFIG" | sed "s#@DIR@#$d#g" >"$d/config"',
          'printf "%s\\n" "$CLAWD_MESH_KNOWN_HOSTS" >"$d/known_hosts"',
          // The operator's key arrives on stdin, never in the environment or on a command line.
          'cat >"$d/key"',
          `sh '${ROLLOUT_SCRIPT}' "$d/config" "$CLAWD_MESH_BINARY" "$CLAWD_MESH_SHA256" ${entries.join(" ")}`,
        ].join("\n"),
        environment: {
          CLAWD_MESH_SSH_CONFIG: sshConfig,
          CLAWD_MESH_KNOWN_HOSTS: knownHosts,
          CLAWD_MESH_BINARY: args.binaryUrl,
          CLAWD_MESH_SHA256: args.binarySha256,
          ...(via && { HEALTH_VIA: via }),
        },
        stdin: "privateKey" in args.credentials ? args.credentials.privateKey : "",
        // Again when the binary changes, or a vault node joins (it needs the binary too).
        triggers: [args.binaryUrl, args.binarySha256, ...args.nodes.map((n) => n.spec.name)],
      },
      {
        parent: this,
        dependsOn: args.nodes.flatMap((n) => (n.push ? [n.push] : [])),
        replaceOnChanges: ["triggers[*]"],
        additionalSecretOutputs: ["stdin"],
        customTimeouts: { create: "60m" },
      },
    );
    this.registerOutputs({});
  }
}
