// The whole fleet from a validated spec: a MeshNode per node, then the roles beside them.
// Every MeshNode is a direct child of the Fleet whatever its roles: a node's parent is part of
// its URN, and a URN change would replace the server just because a role was added.
import * as pulumi from "@pulumi/pulumi";
import type { Fleet, FleetNode } from "../core/fleet/fleet";
import { renderSshConfig } from "../core/render/sshConfig";
import { renderPeerConf } from "../core/render/peerConf";
import type { SecretFiles } from "../core/render/pushArchive";
import { CloudContext } from "./cloud";
import type { PushSettings } from "./config";
import { deploymentOf, fleetPlanOf, type FleetFacts, type SshCredentials } from "./context";
import { Deferred } from "./deferred";
import { K3sCluster } from "./k3sCluster";
import { MeshNode } from "./meshNode";
import { OllamaNode, type OllamaRoute } from "./ollamaNode";
import { VaultNode } from "./vaultNode";
import { VaultRollout } from "./vaultRollout";
import { rolloutOrder } from "../core/plan/roles";
import { nodesReadBy, pathNodes } from "../core/plan/route";
import { pushWaitsFor } from "../core/plan/rotation";
import { WireGuardHub } from "./wireGuardHub";

export interface MeshFleetArgs {
  readonly fleet: Fleet;
  readonly credentials: SshCredentials;
  /** Kuma push URLs by vault node name (a secret). */
  readonly kumaPushUrls?: pulumi.Output<Record<string, string>>;
  readonly push: PushSettings;
}

export interface NodeOutput {
  readonly provider: string;
  readonly region: string;
  readonly publicIpv4: string | null;
  readonly publicIpv6: string | null;
  readonly meshIp: string;
  readonly wgPublicKey: string;
  readonly fqdn: string | null;
  readonly roles: readonly string[];
}

export class MeshFleet extends pulumi.ComponentResource {
  readonly nodes: ReadonlyMap<string, MeshNode>;
  readonly hub: WireGuardHub | undefined;
  readonly ollama: readonly OllamaNode[];
  readonly vaults: readonly VaultNode[];
  readonly rollouts: readonly VaultRollout[];
  readonly k3s: K3sCluster | undefined;
  readonly sshConfig: pulumi.Output<string>;
  readonly peerConfigs: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: MeshFleetArgs, opts?: pulumi.ComponentResourceOptions) {
    super("clawd-mesh:mesh:Fleet", name, {}, opts);
    const { fleet } = args;
    const cloud = new CloudContext(name, this, fleet.ssh.authorizedKeys[0] ?? "");
    const facts = new Deferred<FleetFacts>();
    // Each node reads the facts of the nodes its files and connections name, and no others:
    // an unknown elsewhere (a node being added) leaves its push known in a preview.
    const factsRead = new Map(
      [...fleet.nodes, ...fleet.leaving].map((n) => [n.name, new Deferred<FleetFacts>()]),
    );
    const roleSecrets = new Map(fleet.nodes.map((n) => [n.name, new Deferred<SecretFiles>()]));
    let meshIsReady: (r: pulumi.Resource[]) => void = () => undefined;
    const meshReady = new Promise<pulumi.Resource[]>((resolve) => (meshIsReady = resolve));
    try {
      const leaving = this.createLeaving(args, cloud, factsRead, meshReady);
      this.nodes = this.createNodes(args, cloud, factsRead, roleSecrets, meshReady, leaving);
      facts.resolve(fleetFactsOf(this.nodes));
      const all = new Map([...this.nodes, ...leaving]);
      for (const spec of [...fleet.nodes, ...fleet.leaving]) {
        const read = new Set(nodesReadBy(spec.decommission ? withNode(fleet, spec) : fleet, spec));
        factsRead
          .get(spec.name)
          ?.resolve(fleetFactsOf(new Map([...all].filter(([name]) => read.has(name)))));
      }
      meshIsReady(
        [...this.nodes.values()].flatMap((n) => (n.bootstrapped ? [n.bootstrapped] : [])),
      );

      const node = (spec: FleetNode) => this.nodes.get(spec.name) as MeshNode;
      const hubSpec = fleet.nodes.find((n) => n.roles.includes("hub"));
      this.hub = hubSpec
        ? new WireGuardHub(
            `${hubSpec.name}-hub`,
            { fleet, node: node(hubSpec) },
            { parent: this, aliases: formerAlias(hubSpec, "-hub") },
          )
        : undefined;
      this.ollama = fleet.nodes
        .filter((n) => n.ollama)
        .map(
          (n) =>
            new OllamaNode(
              `${n.name}-ollama`,
              { node: node(n), models: n.ollama?.models ?? [] },
              { parent: this, aliases: formerAlias(n, "-ollama") },
            ),
        );
      this.vaults = fleet.nodes.flatMap((n) =>
        n.vault
          ? [
              new VaultNode(
                `${n.name}-vault`,
                {
                  node: node(n),
                  settings: n.vault,
                  ...(args.kumaPushUrls && {
                    kumaPushUrl: args.kumaPushUrls.apply((urls) => urls[n.name]),
                  }),
                },
                { parent: this, aliases: formerAlias(n, "-vault") },
              ),
            ]
          : [],
      );
      // One rollout per binary (usually one: the stack files share the vault settings).
      const order = rolloutOrder(fleet);
      const binaries = [
        ...new Set(order.map((n) => `${n.vault?.binaryUrl} ${n.vault?.binarySha256}`)),
      ];
      // A rollout needs every node pushed: none in a first-contact-only run.
      this.rollouts = (args.push.firstContactOnly ? [] : binaries).map((binary, i) => {
        const [url = "", sha = ""] = binary.split(" ");
        return new VaultRollout(
          `${name}-vault-rollout${binaries.length > 1 ? `-${i + 1}` : ""}`,
          {
            fleet,
            nodes: order
              .filter((n) => n.vault?.binaryUrl === url && n.vault.binarySha256 === sha)
              .map(node),
            binaryUrl: url,
            binarySha256: sha,
            facts: facts.output,
            credentials: args.credentials,
          },
          { parent: this },
        );
      });
      const server = fleet.nodes.find((n) => n.roles.includes("k3s-server"));
      this.k3s = server
        ? new K3sCluster(
            `${name}-k3s`,
            {
              fleet,
              server: node(server),
              agents: fleet.nodes.filter((n) => n.roles.includes("k3s-agent")).map(node),
              cloud,
            },
            { parent: this },
          )
        : undefined;

      for (const spec of fleet.nodes) {
        const parts = [
          ...(spec.vault ? [this.vaultOf(spec.name).secretFiles] : []),
          ...(this.k3s?.members.includes(spec.name) ? [this.k3s.secretFiles] : []),
        ];
        roleSecrets
          .get(spec.name)
          ?.resolve(pulumi.all(parts).apply((files) => Object.assign({}, ...files) as SecretFiles));
      }
    } catch (error) {
      facts.reject(error);
      for (const d of factsRead.values()) d.reject(error);
      meshIsReady([]);
      for (const d of roleSecrets.values()) d.reject(error);
      throw error;
    }

    this.sshConfig = facts.output.apply((f) => renderSshConfig(fleet, fleetPlanOf(fleet, f)));
    // Each peer's own side, with the real keys and endpoints (its private key stays its own):
    // an operator whose machine reaches the nodes as a peer brings this up before the pushes
    // that go over the mesh; clients (seed 002) the same.
    this.peerConfigs = facts.output.apply((f) => {
      const deployment = deploymentOf(f);
      const plan = fleetPlanOf(fleet, f);
      return Object.fromEntries(
        fleet.peers.map((p) => [p.name, renderPeerConf(fleet, plan, deployment, p)]),
      );
    });
    this.registerOutputs({ sshConfig: this.sshConfig, peerConfigs: this.peerConfigs });
  }

  /**
   * Each node's push waits for the pushes of the nodes on its management path (the entry node,
   * the hub): they learn of a new node, or its new key or address, before it is reached
   * through them. Nodes are declared in that order, the ones on paths first. A rotated hub
   * goes first of all (pushWaitsFor, core/plan/rotation.ts).
   */
  private createNodes(
    args: MeshFleetArgs,
    cloud: CloudContext,
    factsRead: ReadonlyMap<string, Deferred<FleetFacts>>,
    roleSecrets: ReadonlyMap<string, Deferred<SecretFiles>>,
    meshReady: Promise<pulumi.Resource[]>,
    leaving: ReadonlyMap<string, MeshNode>,
  ): Map<string, MeshNode> {
    const { fleet } = args;
    const nodes = new Map<string, MeshNode>();
    const paths = new Map(fleet.nodes.map((n) => [n.name, pushWaitsFor(fleet, n)]));
    const ordered: FleetNode[] = [];
    const visit = (node: FleetNode, seen: string[]): void => {
      if (ordered.includes(node)) return;
      if (seen.includes(node.name)) {
        throw new Error(`nodes: the management paths loop (${[...seen, node.name].join(" -> ")})`);
      }
      for (const name of paths.get(node.name) ?? []) {
        const on = fleet.nodes.find((n) => n.name === name);
        if (on) visit(on, [...seen, node.name]);
      }
      ordered.push(node);
    };
    for (const node of fleet.nodes) visit(node, []);
    // A node on a leaving host's path drops it only once that host has been given back.
    const givenBack = (name: string) =>
      fleet.leaving.flatMap((l) => {
        const push = leaving.get(l.name)?.push;
        return push && pathNodes(withNode(fleet, l), l).includes(name) ? [push] : [];
      });
    for (const spec of ordered) {
      const before = (paths.get(spec.name) ?? []).flatMap((name) => {
        const push = nodes.get(name)?.push;
        return push ? [push] : [];
      });
      before.push(...givenBack(spec.name));
      nodes.set(
        spec.name,
        new MeshNode(
          spec.name,
          {
            fleet,
            node: spec,
            facts: (factsRead.get(spec.name) as Deferred<FleetFacts>).output,
            roleSecrets: (roleSecrets.get(spec.name) as Deferred<SecretFiles>).output,
            credentials: args.credentials,
            cloud,
            meshReady,
            push: args.push,
            after: before,
          },
          { parent: this, aliases: formerAlias(spec, "") },
        ),
      );
    }
    return nodes;
  }

  /**
   * Existing hosts leaving the mesh: each is planned as a member once more (its management
   * path is the one it has now) and its push gives it back as first contact found it.
   */
  private createLeaving(
    args: MeshFleetArgs,
    cloud: CloudContext,
    factsRead: ReadonlyMap<string, Deferred<FleetFacts>>,
    meshReady: Promise<pulumi.Resource[]>,
  ): Map<string, MeshNode> {
    const leaving = new Map<string, MeshNode>();
    for (const spec of args.fleet.leaving) {
      leaving.set(
        spec.name,
        new MeshNode(
          spec.name,
          {
            fleet: withNode(args.fleet, spec),
            node: spec,
            facts: (factsRead.get(spec.name) as Deferred<FleetFacts>).output,
            roleSecrets: pulumi.output<SecretFiles>({}),
            credentials: args.credentials,
            cloud,
            meshReady,
            push: args.push,
          },
          { parent: this, aliases: formerAlias(spec, "") },
        ),
      );
    }
    return leaving;
  }

  private vaultOf(name: string): VaultNode {
    const vault = this.vaults.find((v) => v.nodeName === name);
    if (!vault) throw new Error(`no vault component for ${name}`);
    return vault;
  }

  /** Per node: what other stacks may read. */
  nodeOutputs(): pulumi.Output<Record<string, NodeOutput>> {
    return pulumi.all(
      Object.fromEntries(
        [...this.nodes].map(([name, n]) => [
          name,
          // The IPv6 address comes from the host behind the facts' IPv4 one: nesting adds no
          // dependency, and saves the Outputs pulumi.all makes per element.
          n.facts.apply((f) =>
            n.publicIpv6.apply((v6): NodeOutput => ({
              provider: n.spec.provider,
              region: n.spec.region,
              publicIpv4: f.publicIpv4,
              publicIpv6: v6,
              meshIp: n.meshIp,
              wgPublicKey: f.wgPublicKey,
              fqdn: n.fqdn ?? null,
              roles: n.spec.roles,
            })),
          ),
        ]),
      ),
    ) as pulumi.Output<Record<string, NodeOutput>>;
  }

  /** model → { node, purpose, url }, across every Ollama node. */
  ollamaRoutes(): Record<string, OllamaRoute> {
    return Object.assign({}, ...this.ollama.map((o) => o.routes)) as Record<string, OllamaRoute>;
  }
}

/** What the pushes read of these nodes (keys, addresses), as one value for the plan. */
function fleetFactsOf(nodes: ReadonlyMap<string, MeshNode>): pulumi.Output<FleetFacts> {
  return pulumi.all(
    Object.fromEntries([...nodes].map(([name, n]) => [name, n.facts])),
  ) as pulumi.Output<FleetFacts>;
}

/**
 * A renamed node's resources keep their identity: the component is aliased to its former
 * name, and its children, named after it, follow (Pulumi derives a child's alias by swapping
 * the parent's name at the start of the child's).
 */
function formerAlias(node: FleetNode, suffix: string): pulumi.Alias[] {
  return node.formerName ? [{ name: `${node.formerName}${suffix}` }] : [];
}

/** The fleet as it was with a leaving node still in it. */
function withNode(fleet: Fleet, node: FleetNode): Fleet {
  return { ...fleet, nodes: [...fleet.nodes, node].sort((a, b) => a.name.localeCompare(b.name)) };
}
