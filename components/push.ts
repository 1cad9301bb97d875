// A node's pushes as Pulumi commands. First contact (once, on create): the bundle over the
// public address with the image's initial account, public SSH kept open; then a confirmation
// as the admin user. Every push after that goes over the management path, armed with an
// automatic rollback, and is kept only by a confirmation over a connection of its own.
import * as pulumi from "@pulumi/pulumi";
import { remote } from "@pulumi/command";
import type { Fleet, FleetNode } from "../core/fleet/fleet";
import { applyOutcome, confirmFor, pushCommand } from "../core/push/command";
import { managementConnection, publicConnection } from "./connection";
import type { FleetFacts, SshCredentials } from "./context";
import { initialUser, needsBootstrap } from "./initialAccess";

export interface PushArgs {
  readonly name: string;
  readonly fleet: Fleet;
  readonly node: FleetNode;
  readonly facts: pulumi.Output<FleetFacts>;
  readonly credentials: SshCredentials;
  readonly windowSeconds: number;
  /** The archive (secret) and what re-runs the push when it changes. */
  readonly archive: pulumi.Output<string>;
  readonly triggers: pulumi.Input<unknown>[];
  /** The host and its records: first contact waits for them. */
  readonly host: readonly pulumi.Resource[];
  /** Every node's first contact: the mesh exists before anything is reached over it. */
  readonly meshReady: Promise<pulumi.Resource[]>;
  /** Confirmations this push waits for (the hub's waits for everyone else's). */
  readonly after: readonly pulumi.Resource[];
  readonly parent: pulumi.Resource;
}

export interface Pushes {
  /** First contact, confirmed; undefined for a host behind NAT (already on the mesh). */
  readonly bootstrapped?: remote.Command;
  readonly push: remote.Command;
  readonly confirm: remote.Command;
}

// Commands that carry the archive: it is secret on the way in and in the state.
const SECRET_STDIN = { additionalSecretOutputs: ["stdin"], customTimeouts: { create: "30m" } };

export function createPushes(a: PushArgs): Pushes {
  const window = a.windowSeconds;
  const bootstrapped = needsBootstrap(a.node) ? bootstrap(a) : undefined;
  const connection = managementConnection(a.fleet, a.node, a.facts, a.credentials);
  const push = new remote.Command(
    `${a.name}-push`,
    {
      connection,
      create: pushCommand({ windowSeconds: window }),
      stdin: a.archive,
      triggers: a.triggers,
    },
    {
      parent: a.parent,
      dependsOn: pulumi
        .output(a.meshReady)
        .apply((ready) => [...a.host, ...ready, ...a.after]) as unknown as pulumi.Input<
        pulumi.Resource[]
      >,
      replaceOnChanges: ["triggers[*]"],
      ...SECRET_STDIN,
    },
  );
  // A command of its own: its own SSH connection, on the path the new configuration leaves.
  const confirm = new remote.Command(
    `${a.name}-confirm`,
    {
      connection,
      create: push.stdout.apply((out) => confirmFor(applyOutcome(out))),
      triggers: a.triggers,
    },
    { parent: a.parent, dependsOn: [push], replaceOnChanges: ["triggers[*]"] },
  );
  return { ...(bootstrapped && { bootstrapped }), push, confirm };
}

function bootstrap(a: PushArgs): remote.Command {
  const port = a.fleet.ssh.port;
  const first = new remote.Command(
    `${a.name}-bootstrap`,
    {
      connection: publicConnection(
        a.node,
        initialUser(a.node, a.fleet.ssh.adminUser),
        port,
        a.facts,
        a.credentials,
      ),
      create: pushCommand({ bootstrap: true, windowSeconds: a.windowSeconds }),
      stdin: a.archive,
    },
    { parent: a.parent, dependsOn: [...a.host], ...SECRET_STDIN },
  );
  // From here on only the admin user may log in: the confirmation proves it can.
  return new remote.Command(
    `${a.name}-bootstrap-confirm`,
    {
      connection: publicConnection(a.node, a.fleet.ssh.adminUser, port, a.facts, a.credentials),
      create: first.stdout.apply((out) => confirmFor(applyOutcome(out))),
    },
    { parent: a.parent, dependsOn: [first] },
  );
}
