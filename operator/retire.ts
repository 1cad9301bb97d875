// A replaced (or removed) machine leaves the mesh before its successor joins (core/delivery/
// retire.ts says why); cli/retire.ts runs this as the node's `-retire` Command's delete.
// The machine is asked over the management path its state recorded; it answers, then leaves.
// This then waits until its WireGuard interface is gone: read over the same route, or, when
// the route itself goes with it (the mesh), seen as two checks in a row that reach nothing.
// A machine that cannot be asked (dead, the usual reason to replace one, or a removed node
// the mesh already dropped) holds nothing up: that is said as a warning, and it succeeds.
import {
  INTERFACES_COMMAND,
  listsInterface,
  RETIRE_COMMAND_REMOTE,
} from "../core/delivery/command";
import type { RetirePlan } from "../core/delivery/retire";
import { WG_INTERFACE } from "../core/fleet/catalog";
import { describeRoute, routeConnection } from "./route";
import { CommandFailed, type Transport } from "./ssh";

export interface RetireLimits {
  /** How long the machine has to answer the ask. */
  readonly askMs: number;
  /** How long it has to be gone once it said it leaves (it waits a second). */
  readonly goneMs: number;
  /** Each check's own deadline: through a jump host a dial has none of its own. */
  readonly checkMs: number;
  /** The pause before each check. */
  readonly pauseMs: number;
}

export const RETIRE_LIMITS: RetireLimits = {
  // A live machine answers in a second or two; through a jump host, one the mesh no longer
  // routes to is never refused, only not answered.
  askMs: 15_000,
  goneMs: 30_000,
  checkMs: 5_000,
  pauseMs: 2_000,
};

export interface RetireRun {
  readonly ssh: Transport;
  /** The operator's key, unless an agent holds it. */
  readonly key?: string;
  readonly say: (line: string) => void;
  readonly limits?: RetireLimits;
}

/** 0 once the machine has left the mesh or could not be asked; 1 when it stays on it. */
export async function retireMachine(plan: RetirePlan, run: RetireRun): Promise<number> {
  const { ssh, key, say } = run;
  const limits = run.limits ?? RETIRE_LIMITS;
  const where = describeRoute(plan.route);
  try {
    await ssh.remote({
      connection: routeConnection(plan.route, plan.dial, key),
      command: RETIRE_COMMAND_REMOTE,
      timeoutMs: limits.askMs,
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    say(
      error instanceof CommandFailed
        ? `warning: the machine answered over ${where} but did not leave the mesh (${reason}); it stays on it until it is deleted at the end of this up`
        : `warning: the machine did not answer over ${where} within ${limits.askMs / 1000} s (${reason}); nothing to take off the mesh, or, if it still runs, it stays on it until it is deleted at the end of this up`,
    );
    return 0;
  }
  say(`the machine leaves the mesh; waiting until its ${WG_INTERFACE} is gone`);
  const deadline = Date.now() + limits.goneMs;
  let unreached = 0;
  let read = false;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, limits.pauseMs));
    const listed = await ssh
      .remote({
        connection: routeConnection(plan.route, { attempts: 1, perDialTimeout: 3 }, key),
        command: INTERFACES_COMMAND,
        timeoutMs: limits.checkMs,
      })
      .then(
        (r) => r.stdout,
        (error: unknown) => (error instanceof CommandFailed ? "" : undefined),
      );
    if (listed === undefined) {
      // Not reached: over the mesh, that is the machine gone with its interface; once could
      // be the jump host's own moment (a push reloading its sshd), so twice in a row.
      if (++unreached >= 2) {
        say(`it has left the mesh: it no longer answers over ${where}`);
        return 0;
      }
      continue;
    }
    unreached = 0;
    read ||= listed !== "";
    if (listed && !listsInterface(listed, WG_INTERFACE)) {
      say(`it has left the mesh: ${WG_INTERFACE} is gone`);
      return 0;
    }
  }
  const state = read ? `it still has ${WG_INTERFACE}` : `its interfaces could not be read`;
  say(
    `${state} ${limits.goneMs / 1000} s after it said it leaves (its /var/lib/clawd-mesh/retire.log says why). Fix: stop its WireGuard or delete the machine by hand, then run up again; the new machine is not configured until then`,
  );
  return 1;
}
