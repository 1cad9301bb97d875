// One node of the mesh: its WireGuard key, its SSH host identity, its host (created on Vultr
// or AWS, or an existing machine), its DNS records, and the push of its configuration.
import * as pulumi from "@pulumi/pulumi";
import type * as random from "@pulumi/random";
import type { Fleet, FleetNode } from "../core/fleet/fleet";
import { planFirewall } from "../core/plan/firewall";
import { planNode } from "../core/plan/plan";
import { renderBundle } from "../core/render/bundle";
import { storeBundle } from "../core/delivery/bundleStore";
import { secretsFingerprint, type SecretFiles } from "../core/render/pushArchive";
import type { HostIdentity } from "../core/render/userData";
import {
  sshHostKeyFromSeed,
  wireguardKeyOfGeneration,
  wireguardPublicKey,
} from "../core/crypto/keys";
import { aheadFollowers, keyFollower } from "../core/plan/rotation";
import type { CloudContext } from "./cloud";
import type { PushSettings } from "./config";
import { managementConnection, managementHops } from "./connection";
import { createPushes, type PushCommand } from "./push";
import { deploymentOf, type FleetFacts, type NodeFacts, type SshCredentials } from "./context";
import { dnsRecords } from "./dns";
import { Lean, LEAN } from "./lean";
import { HOST_DRIVERS } from "./hosts/drivers";
import type { Host, HostArgs } from "./hosts/types";

export interface MeshNodeArgs {
  readonly fleet: Fleet;
  readonly node: FleetNode;
  /** Every node's keys and addresses; the Fleet resolves it once all nodes exist. */
  readonly facts: pulumi.Output<FleetFacts>;
  /** Files a role adds to this node's push (the k3s token, the vault's environment). */
  readonly roleSecrets: pulumi.Output<SecretFiles>;
  readonly credentials: SshCredentials;
  readonly cloud: CloudContext;
  /** Confirmations this node's push waits for: the hub's waits for every other node's. */
  readonly after?: readonly pulumi.Resource[];
  /** Every node's first contact, resolved by the Fleet once all nodes exist. */
  readonly meshReady: Promise<pulumi.Resource[]>;
  readonly push: PushSettings;
}

export class MeshNode extends pulumi.ComponentResource {
  readonly spec: FleetNode;
  readonly meshIp: string;
  readonly fqdn: string | undefined;
  readonly wgPublicKey: pulumi.Output<string>;
  readonly hostKey: pulumi.Output<string>;
  readonly publicIpv4: pulumi.Output<string | null>;
  readonly publicIpv6: pulumi.Output<string | null>;
  /** What others read of it: one Output, shared by every node whose bundle names it. */
  readonly facts: pulumi.Output<NodeFacts>;
  /**
   * The digest of the node's bundle (exactly what synth writes for it), kept in the bundle
   * store. Only the digest stays in memory: the model and the files are rendered, stored and
   * let go, or 254 bundles would be held until the program ends.
   */
  readonly bundleHash: pulumi.Output<string>;
  /** First contact, confirmed (hosts reached before the mesh exists). */
  readonly bootstrapped: PushCommand | undefined;
  /** The push, confirmed: what anything after this node waits for (none in first contact only). */
  readonly push: PushCommand | undefined;
  private readonly args: MeshNodeArgs;
  private managed: ReturnType<typeof managementConnection> | undefined;

  constructor(name: string, args: MeshNodeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("clawd-mesh:mesh:MeshNode", name, {}, opts);
    const { fleet, node } = args;
    this.spec = node;
    this.args = args;
    this.meshIp = node.meshIp;
    this.fqdn = node.dnsName;

    // WireGuard: 32 random bytes are the seed of the node's keys, the key itself until it is
    // first rotated; Node's X25519 derives the public one.
    const wgSeed = randomSeed(`${name}-wg-key`, this);
    const generation = node.wireguardKeyGeneration ?? 0;
    const keyOf = (g: number) =>
      pulumi.secret(wgSeed.base64.apply((seed) => wireguardKeyOfGeneration(seed, g)));
    const wgPrivateKey = keyOf(generation);
    this.wgPublicKey = pulumi.unsecret(wgPrivateKey.apply(wireguardPublicKey));
    // The generation before's public key, "" before the first rotation.
    const previousPublicKey: pulumi.Output<string> =
      generation > 0
        ? pulumi.unsecret(keyOf(generation - 1).apply(wireguardPublicKey))
        : pulumi.output("");
    // A rotated key: the node it is reached through follows it (a spoke), or every other node
    // follows it ahead (the hub, a full mesh's entry node); core/plan/rotation.ts says why.
    const ahead = aheadFollowers(fleet, node);
    const followers = [keyFollower(fleet, node), ...ahead].flatMap((name) =>
      fleet.nodes.filter((n) => n.name === name),
    );
    const follows =
      followers.length > 0
        ? pulumi
            .all([args.facts, this.wgPublicKey, previousPublicKey.apply((k) => k ?? "")])
            .apply(([facts, key, previousKey]) =>
              followers.map((f) => ({
                node: f.name,
                route: managementHops(fleet, f, facts),
                address: node.meshIp,
                key,
                previousKey,
                ahead: ahead.includes(f.name),
              })),
            )
        : undefined;

    // SSH host identity: made here for cloud hosts (and given to them at first boot), taken
    // from the stack file for existing ones. Every connection is pinned to it.
    const identity = node.provider === "existing" ? undefined : this.hostIdentity(name);
    this.hostKey = identity
      ? pulumi.unsecret(identity.apply((i) => i.publicKey))
      : pulumi.output(node.sshHostKey ?? "");

    const host = this.createHost(name, args, identity);
    this.publicIpv4 = host.publicIpv4;
    this.publicIpv6 = host.publicIpv6;
    // Nested, not pulumi.all, here and for the secrets below: pulumi.all makes two Outputs per
    // element at once, all held until the host exists; an inner apply is made when the value
    // around it arrives, and its resources, secrecy and unknown-ness then join the result. (In
    // a preview of a new node, whose keys are unknown, the result names the keys' resources
    // only; the push depends on the host's resources by its own dependsOn.)
    const { wgPublicKey, publicIpv4, hostKey } = this;
    this.facts = wgPublicKey.apply((key) =>
      publicIpv4.apply((ip) =>
        hostKey.apply((host) =>
          previousPublicKey.apply((previous): NodeFacts => ({
            wgPublicKey: key,
            publicIpv4: ip,
            hostKey: host,
            ...(previous && { previousWgPublicKey: previous }),
          })),
        ),
      ),
    );
    const records = node.dnsName
      ? dnsRecords(
          name,
          {
            hostnames: [node.dnsName],
            zones: fleet.dns?.zones ?? [],
            ipv4: host.publicIpv4,
            ...(HOST_DRIVERS[node.provider].ipv6 && { ipv6: host.publicIpv6 }),
          },
          args.cloud,
          this,
        )
      : [];

    // Kept by its digest on this machine for the push to load: the state holds the digest only.
    this.bundleHash = args.facts.apply((f) => {
      const model = planNode(fleet, node, deploymentOf(f));
      return storeBundle(Object.fromEntries(renderBundle(model)));
    });
    const files = (wg: string, role: SecretFiles, id?: HostIdentity): SecretFiles => ({
      "wg0.key": `${wg}\n`,
      ...(id && { ssh_host_ed25519_key: id.privateKey }),
      ...role,
    });
    const secrets = wgPrivateKey.apply((wg) =>
      args.roleSecrets.apply((role) =>
        identity ? identity.apply((id) => files(wg, role, id)) : pulumi.output(files(wg, role)),
      ),
    );
    const pushes = createPushes({
      name,
      fleet,
      node,
      facts: args.facts,
      credentials: args.credentials,
      settings: args.push,
      bundle: this.bundleHash,
      secretFiles: secrets,
      // Re-run when the bundle or a secret changes; both values are safe to show in a diff.
      ...(follows && { follows }),
      triggers: [
        this.bundleHash,
        // The key is among the secrets' own inputs: nesting adds no dependency, and saves the
        // Outputs pulumi.all makes per element.
        pulumi.unsecret(secrets.apply((s) => wgPrivateKey.apply((k) => secretsFingerprint(s, k)))),
      ],
      machine: host.machine,
      host: [...host.resources, ...records],
      meshReady: args.meshReady,
      after: args.after ?? [],
      parent: this,
    });
    this.bootstrapped = pushes.bootstrapped;
    this.push = pushes.push;

    this.registerOutputs({
      wgPublicKey: this.wgPublicKey,
      hostKey: this.hostKey,
      publicIpv4: this.publicIpv4,
      publicIpv6: this.publicIpv6,
      bundleHash: this.bundleHash,
    });
  }

  /**
   * A remote.Command connection along the node's management path. Made when first asked for:
   * only the k3s server's kubeconfig read uses one, and an Output per node is work and memory
   * the program's size multiplies.
   */
  connection(): ReturnType<typeof managementConnection> {
    const { fleet, facts, credentials, push } = this.args;
    this.managed ??= managementConnection(
      fleet,
      this.spec,
      facts,
      credentials,
      push.connectAttempts,
    );
    return this.managed;
  }

  private hostIdentity(name: string): pulumi.Output<HostIdentity> {
    const seed = randomSeed(`${name}-host-key`, this);
    return pulumi.secret(seed.base64.apply((s) => sshHostKeyFromSeed(s, name)));
  }

  private createHost(
    name: string,
    args: MeshNodeArgs,
    identity: pulumi.Output<HostIdentity> | undefined,
  ): Host {
    const { node, fleet, cloud } = args;
    const hostArgs: HostArgs = {
      name,
      mesh: fleet.mesh.name,
      node,
      firewall: planFirewall(fleet, node),
      ...(identity && { identity }),
      operatorKey: cloud.operatorKey,
      parent: this,
      ...(node.os === "nixos" &&
        fleet.nixpkgs && {
          nixos: { pin: fleet.nixpkgs, stateVersion: node.nixosStateVersion },
        }),
    };
    return HOST_DRIVERS[node.provider].create(hostArgs, cloud);
  }
}

/** 32 random bytes, kept in the state: the seed a node's keys are derived from. */
function randomSeed(name: string, parent: pulumi.Resource) {
  const args: random.RandomBytesArgs = { length: 32 };
  return new Lean(LEAN.randomBytes, name, { ...args }, ["base64"], { parent });
}
