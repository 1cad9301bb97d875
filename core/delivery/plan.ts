// One push as the operator's machine carries it out: apply over one SSH connection, then
// confirm over a connection of its own, made after the switch on the path the new
// configuration leaves. The program describes it (components/push.ts) and cli/push.ts does it,
// as one step: a push that is not confirmed fails, so Pulumi keeps no record of it and the
// next `up` pushes again — two resources (apply, then confirm) cannot promise that, because a
// failure anywhere else stops the engine between them.

import type { SecretFiles } from "../render/pushArchive";

/** One SSH hop: where, as whom, and the host key it must show. */
export interface Hop {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly hostKey: string;
}

/** A node's SSH, directly or through a jump host (its own hop, its own pinned key). */
export interface Route extends Hop {
  readonly proxy?: Hop;
}

export interface PushPlan {
  readonly node: string;
  /** The digest of the node's bundle (bundleHash): cli/push.ts loads the bundle by it. */
  readonly bundle: string;
  /**
   * First contact (over the public address, public SSH kept), the regular push, or giving a
   * leaving host back (over the management path; confirmed the way first contact came in).
   */
  readonly mode: "bootstrap" | "push" | "decommission";
  readonly windowSeconds: number;
  readonly apply: Route;
  /** Bootstrap: the admin account over the public address; a push: the management path. */
  readonly confirm: Route;
  /**
   * A node whose WireGuard key was rotated: the nodes that follow it from its previous key to
   * its new one, each asked before the apply (core/plan/rotation.ts): the one it is reached
   * through, or, for a hub or a full mesh's entry node, every other node.
   */
  readonly follows?: readonly Follow[];
  /**
   * Rotated peers whose previous keys this node keeps from its switch, until each answers on
   * its new key (core/plan/rotation.ts keptKeys): apply.sh follows them itself.
   */
  readonly keeps?: readonly Kept[];
  /** Dial attempts and seconds per attempt, for hosts still booting or tunnels coming up. */
  readonly dial: Dial;
}

/** How often, and how long each time, a route is dialled before it counts as unreachable. */
export interface Dial {
  readonly attempts: number;
  readonly perDialTimeout: number;
}

/** One node asked to follow a rotating node's key (`clawd-mesh-receive wg-follow`). */
export interface Follow {
  /** The node that follows, and the route to it. */
  readonly node: string;
  readonly route: Route;
  /** The rotating node's mesh address, and its new and previous public keys. */
  readonly address: string;
  readonly key: string;
  readonly previousKey: string;
  /**
   * Whether the follower's configuration still names the previous key (a hub or entry node,
   * pushed before the nodes that hold it) rather than the new one (core/plan/rotation.ts).
   */
  readonly ahead: boolean;
}

/** A rotated peer kept on its previous key: its mesh address, its new and previous keys. */
export interface Kept {
  readonly address: string;
  readonly key: string;
  readonly previousKey: string;
}

/**
 * What travels on stdin (a Pulumi secret): the node's secret files, and the operator's key if
 * not an agent. The bundle does not: it is no secret, and the state keeps only its digest.
 */
export interface PushSecrets {
  readonly files: SecretFiles;
  readonly privateKey?: string;
}

/**
 * How long the engine lets one push run (its customTimeouts): its switch comes within it, so
 * a node that follows a rotating one need never follow for longer than this and the window.
 */
export const PUSH_TIMEOUT_SECONDS = 1800;

/** The command the program runs on the operator's machine, relative to the project. */
export const PUSH_COMMAND = "node_modules/.bin/tsx cli/push.ts";

/** The environment variable that carries the plan (nothing secret in it). */
export const PUSH_PLAN_VARIABLE = "CLAWD_MESH_PUSH";

export function parsePushPlan(text: string | undefined): PushPlan {
  if (!text) throw new Error(`${PUSH_PLAN_VARIABLE} is not set: run through the Pulumi program`);
  const plan = JSON.parse(text) as PushPlan;
  if (!["bootstrap", "push", "decommission"].includes(plan.mode)) {
    throw new Error(
      `${PUSH_PLAN_VARIABLE}: mode ${String(plan.mode)} is not bootstrap, push or decommission`,
    );
  }
  return plan;
}
