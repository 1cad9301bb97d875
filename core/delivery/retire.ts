// A created node's machine, when Pulumi replaces it, hands its place on the mesh to the new one.
// The new machine gets the same WireGuard key and mesh address, and Pulumi deletes the old one
// only at the end of the `up`: until then both would answer for the address, and the nodes
// that hold it as a peer would send its traffic to whichever last spoke (WireGuard roams a
// peer's endpoint to the latest authenticated packet). So the old machine leaves the mesh
// first: the node's `-retire` Command, replaced with the machine and deleted before its
// replacement, runs cli/retire.ts over the management path its state recorded, before the new
// machine's first contact (components/push.ts).

import type { Dial, Route } from "./plan";

export interface RetirePlan {
  readonly node: string;
  /** The management path to the machine, as it was when the Command last ran or changed. */
  readonly route: Route;
  /** Dial attempts and seconds per attempt: few, since a replaced machine is often a dead one. */
  readonly dial: Dial;
}

/** What the `-retire` Command runs when it is deleted, relative to the project. */
export const RETIRE_COMMAND = "node_modules/.bin/tsx cli/retire.ts";

/** The environment variable that carries the plan (nothing secret in it). */
export const RETIRE_PLAN_VARIABLE = "CLAWD_MESH_RETIRE";

/**
 * Two dials of 5 s: a machine that answers its management path does so at once, and one that
 * does not (dead, or already dropped by the nodes it was reached through, as a removed node is)
 * should not hold the `up` for the push's minutes of retries.
 */
export const RETIRE_DIAL = { attempts: 2, perDialTimeout: 5 } as const;

export function parseRetirePlan(text: string | undefined): RetirePlan {
  if (!text) throw new Error(`${RETIRE_PLAN_VARIABLE} is not set: run through the Pulumi program`);
  const plan = JSON.parse(text) as RetirePlan;
  if (typeof plan.node !== "string" || typeof plan.route?.host !== "string") {
    throw new Error(`${RETIRE_PLAN_VARIABLE}: a plan names the node and its route`);
  }
  return plan;
}
