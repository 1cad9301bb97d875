// A node's pushes, each one step on the operator's machine (cli/push.ts): apply over SSH, then
// confirm over a connection of its own. A push that is not confirmed fails, and Pulumi keeps no
// record of a failed create and the old record of a failed update (pulumi-go-provider
// infer/resource.go; step.go), so the next `up` simply pushes again.
// - First contact (`-bootstrap`), once per machine: the public address (or the address given
//   for a host behind NAT), the account the image gives the operator's key, public SSH kept
//   from the operator's networks; confirmed as the admin user. Its triggers name the machine,
//   and its content is ignored afterwards: a later change never re-runs it on a host whose
//   public SSH the cut-over closed, and a new machine (even at the same address) gets it again.
// - The push (`-push`): over the management path once every node has had its first contact,
//   again whenever the bundle, a secret or the machine changes. For an existing host leaving
//   the mesh, it gives the host back as first contact found it, before the nodes on its
//   management path drop it.
// - The retire (`-retire`), for a created machine: runs nothing until the machine is replaced;
//   then the old machine leaves the mesh before the new one's first contact (cli/retire.ts).
import * as pulumi from "@pulumi/pulumi";
import type { local } from "@pulumi/command";
import type { Fleet, FleetNode } from "../core/fleet/fleet";
import {
  PUSH_COMMAND,
  PUSH_PLAN_VARIABLE,
  PUSH_TIMEOUT_SECONDS,
  type Kept,
  type PushPlan,
  type PushSecrets,
  type Route,
} from "../core/delivery/plan";
import {
  RETIRE_COMMAND,
  RETIRE_DIAL,
  RETIRE_PLAN_VARIABLE,
  type RetirePlan,
} from "../core/delivery/retire";
import { keptKeys } from "../core/plan/rotation";
import { firstContactRoute, managementHops, PER_DIAL_TIMEOUT } from "./connection";
import type { PushSettings } from "./config";
import type { SecretFiles } from "../core/render/pushArchive";
import type { FleetFacts, SshCredentials } from "./context";
import { initialUser, needsBootstrap } from "./initialAccess";
import { Lean, LEAN } from "./lean";

export interface PushArgs {
  readonly name: string;
  readonly fleet: Fleet;
  readonly node: FleetNode;
  readonly facts: pulumi.Output<FleetFacts>;
  readonly credentials: SshCredentials;
  readonly settings: PushSettings;
  /**
   * The digest of the node's bundle, kept in the bundle store (core/delivery/bundleStore.ts),
   * rendered from `facts`: its resources are theirs.
   */
  readonly bundle: pulumi.Output<string>;
  /** The node's secret files (secret): they travel on stdin, and only there. */
  readonly secretFiles: pulumi.Output<SecretFiles>;
  /** What re-runs the push when it changes: the bundle's digest and the secrets' HMAC. */
  readonly triggers: pulumi.Input<unknown>[];
  /** A rotated WireGuard key: who follows the node to it, and its new and previous keys. */
  readonly follows?: pulumi.Output<NonNullable<PushPlan["follows"]>>;
  /** The machine (its instance id): a new one gets first contact and a push again. */
  readonly machine: pulumi.Output<string>;
  /** The host and its records: first contact waits for them. */
  readonly host: readonly pulumi.Resource[];
  /** Every node's first contact: the mesh exists before anything is reached over it. */
  readonly meshReady: Promise<pulumi.Resource[]>;
  /** Pushes this one waits for. */
  readonly after: readonly pulumi.Resource[];
  readonly parent: pulumi.Resource;
}

export interface Pushes {
  /** First contact, confirmed; undefined for a host behind NAT with no first-contact address. */
  readonly bootstrapped?: PushCommand;
  /** The push, kept only once confirmed; none in a first-contact-only run. */
  readonly push?: PushCommand;
}

/** A push as the program holds it: what waits for it needs no more than the resource. */
export type PushCommand = Lean<never>;

// Commands that carry secret files on stdin: secret on the way in and in the state.
const SECRET_STDIN = {
  additionalSecretOutputs: ["stdin"],
  customTimeouts: {
    create: `${PUSH_TIMEOUT_SECONDS / 60}m`,
    update: `${PUSH_TIMEOUT_SECONDS / 60}m`,
  },
};

/** A push's two routes, from the facts: where it applies, and where it is confirmed. */
type Routes = (facts: FleetFacts) => { readonly apply: Route; readonly confirm: Route };

/**
 * The push's plan, in its environment. The bundle's digest is rendered from these same facts
 * (meshNode.ts), so reading the facts inside its apply adds no dependency and no unknown.
 * Nested applies are made as values arrive; pulumi.all over the routes, the bundle and the
 * follow made two Outputs per element at once, all pending until the facts resolve.
 */
function plan(
  a: PushArgs,
  mode: PushPlan["mode"],
  routes: Routes,
): pulumi.Output<Record<string, string>> {
  const env = (
    bundle: string,
    f: FleetFacts,
    followed?: PushPlan["follows"],
  ): Record<string, string> => {
    const { apply, confirm } = routes(f);
    const keeps = mode === "push" ? keptOf(a, f) : [];
    const p: PushPlan = {
      node: a.node.name,
      bundle,
      mode,
      windowSeconds: a.settings.windowSeconds,
      apply,
      confirm,
      ...(followed && followed.length > 0 && { follows: followed }),
      ...(keeps.length > 0 && { keeps }),
      dial: { attempts: a.settings.connectAttempts, perDialTimeout: PER_DIAL_TIMEOUT },
    };
    return { [PUSH_PLAN_VARIABLE]: JSON.stringify(p) };
  };
  const follows = mode === "push" ? a.follows : undefined;
  if (follows) {
    return a.bundle.apply((bundle) =>
      a.facts.apply((f) => follows.apply((followed) => env(bundle, f, followed))),
    );
  }
  return a.bundle.apply((bundle) => a.facts.apply((f) => env(bundle, f)));
}

/** The rotated peers this node keeps on their previous keys from its switch (keptKeys). */
function keptOf(a: PushArgs, f: FleetFacts): Kept[] {
  return keptKeys(a.fleet, a.node).flatMap((name) => {
    const peer = a.fleet.nodes.find((n) => n.name === name);
    const facts = f[name];
    return peer && facts?.previousWgPublicKey
      ? [{ address: peer.meshIp, key: facts.wgPublicKey, previousKey: facts.previousWgPublicKey }]
      : [];
  });
}

/**
 * The secret files and, unless an agent holds it, the operator's key: stdin, never an argument.
 * The key is a config value, with no resources behind it: nesting it adds no dependency.
 */
function secrets(a: PushArgs): pulumi.Output<string> {
  const key = "privateKey" in a.credentials ? a.credentials.privateKey : undefined;
  const json = (files: SecretFiles, privateKey?: string) => {
    const s: PushSecrets = { files, ...(privateKey && { privateKey }) };
    return JSON.stringify(s);
  };
  return pulumi.secret(
    a.secretFiles.apply((files) => (key ? key.apply((k) => json(files, k)) : json(files))),
  );
}

export function createPushes(a: PushArgs): Pushes {
  // One Output for both commands: the same files, and one less chain per node to resolve.
  const stdin = secrets(a);
  // A created machine can be replaced: its successor waits until it has left the mesh.
  const retired = a.node.provider === "existing" ? [] : [retire(a)];
  const bootstrapped = needsBootstrap(a.node) ? bootstrap(a, stdin, retired) : undefined;
  if (a.settings.firstContactOnly) return { ...(bootstrapped && { bootstrapped }) };
  const route = (f: FleetFacts) => managementHops(a.fleet, a.node, f);
  const { adminUser, port } = a.fleet.ssh;
  // A leaving host is reached the way it is managed now, and confirmed the way first contact
  // came in: its owner's way back in is the proof.
  const leaving = a.node.decommission;
  const push = new Lean(
    LEAN.localCommand,
    `${a.name}-push`,
    {
      create: PUSH_COMMAND,
      environment: leaving
        ? plan(a, "decommission", (f) => ({
            apply: route(f),
            confirm: firstContactRoute(a.node, adminUser, port, f),
          }))
        : plan(a, "push", (f) => ({ apply: route(f), confirm: route(f) })),
      stdin,
      triggers: [...a.triggers, a.machine, ...(leaving ? ["decommission"] : [])],
    } satisfies local.CommandArgs,
    [],
    {
      parent: a.parent,
      // The first contacts arrive as a Promise inside the list, never as an Output (nor as a
      // Promise of the whole list, which the SDK turns into one): an Output's value is searched
      // for unknowns, and every node's list of every node's resources made the program
      // quadratic. The SDK awaits a Promise element and takes the resources it gives.
      dependsOn: [
        ...a.host,
        ...retired,
        ...a.after,
        a.meshReady as unknown as Promise<pulumi.Resource>,
      ],
      replaceOnChanges: ["triggers[*]"],
      ...SECRET_STDIN,
    },
  );
  return { ...(bootstrapped && { bootstrapped }), push };
}

/**
 * The machine's farewell (core/delivery/retire.ts): nothing runs when it is made; replaced
 * with the machine, it is deleted first, and its delete has the old machine leave the mesh
 * over the route its state holds, before the new machine's first contact. Changes of the
 * route or the key only update it (no command runs), so its state holds them current.
 * pulumi-command v1.2.1 local/commandController.go: Delete runs `delete` with the state's
 * stdin and environment; Update runs `update`, else `create`, else nothing. The engine
 * (step_generator.go) deletes a deleteBeforeReplace resource before creating its replacement,
 * and replaces with it only dependents whose inputs come from it (calculateDependentReplacements),
 * not those that merely wait for it by dependsOn, as first contact and the push do.
 */
function retire(a: PushArgs): PushCommand {
  const key = "privateKey" in a.credentials ? a.credentials.privateKey : undefined;
  return new Lean(
    LEAN.localCommand,
    `${a.name}-retire`,
    {
      delete: RETIRE_COMMAND,
      environment: a.facts.apply((f) => {
        const plan: RetirePlan = {
          node: a.node.name,
          route: managementHops(a.fleet, a.node, f),
          dial: RETIRE_DIAL,
        };
        return { [RETIRE_PLAN_VARIABLE]: JSON.stringify(plan) };
      }),
      stdin: key ?? "",
      triggers: [a.machine],
    } satisfies local.CommandArgs,
    [],
    {
      parent: a.parent,
      dependsOn: [...a.host],
      replaceOnChanges: ["triggers[*]"],
      deleteBeforeReplace: true,
      additionalSecretOutputs: ["stdin"],
    },
  );
}

function bootstrap(
  a: PushArgs,
  stdin: pulumi.Output<string>,
  retired: readonly pulumi.Resource[],
): PushCommand {
  const port = a.fleet.ssh.port;
  const user = initialUser(a.node, a.fleet.ssh.adminUser);
  return new Lean(
    LEAN.localCommand,
    `${a.name}-bootstrap`,
    {
      create: PUSH_COMMAND,
      environment: plan(a, "bootstrap", (f) => ({
        apply: firstContactRoute(a.node, user, port, f),
        // From here on only the admin user may log in: the confirmation proves it can.
        confirm: firstContactRoute(a.node, a.fleet.ssh.adminUser, port, f),
      })),
      stdin,
      triggers: [a.machine],
    } satisfies local.CommandArgs,
    [],
    {
      parent: a.parent,
      dependsOn: [...a.host, ...retired],
      replaceOnChanges: ["triggers[*]"],
      // Once per machine: what it carried then is history (a replacement takes today's).
      ignoreChanges: ["environment", "stdin"],
      ...SECRET_STDIN,
    },
  );
}
