// A replaced machine leaves the mesh before its successor joins (core/delivery/retire.ts says
// why): run on the operator's machine as the delete of the node's `-retire` Command,
//   node_modules/.bin/tsx cli/retire.ts   with the plan in CLAWD_MESH_RETIRE and the operator's
//   key (unless an agent holds it) on stdin.
// The machine is asked over its management path; it answers, then leaves. This waits until it
// no longer answers there, so the new machine's first contact starts with the address free.
// A machine that cannot be reached (dead, the usual reason to replace one, or a removed node
// the mesh already dropped) holds nothing up: this says so and succeeds.
import { readFileSync } from "node:fs";
import { RETIRE_COMMAND_REMOTE } from "../core/delivery/command";
import { parseRetirePlan, RETIRE_PLAN_VARIABLE } from "../core/delivery/retire";
import { CommandFailed, sshTransport } from "../operator/ssh";
import { describeRoute, routeConnection } from "./connection";

/**
 * How long the machine has to answer. A live one answers in a second or two; through a jump
 * host, a machine the mesh no longer routes to (a removed node, which the others dropped
 * earlier in the same up) is never refused, only not answered.
 */
const ASK_WITHIN_MS = 15_000;
/** How long it has to be gone after it said it leaves (it waits one second). */
const GONE_WITHIN_MS = 30_000;

async function main(): Promise<number> {
  const plan = parseRetirePlan(process.env[RETIRE_PLAN_VARIABLE]);
  const key = readFileSync(0, "utf8") || undefined;
  const ssh = sshTransport({ env: process.env });
  const say = (line: string) => process.stderr.write(`clawd-mesh[${plan.node}]: ${line}\n`);
  const where = describeRoute(plan.route);
  try {
    await ssh.remote({
      connection: routeConnection(plan.route, plan.dial, key),
      command: RETIRE_COMMAND_REMOTE,
      timeoutMs: ASK_WITHIN_MS,
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    say(
      error instanceof CommandFailed
        ? `the machine answered over ${where} but did not leave the mesh (${reason}); it stays on it until it is deleted at the end of this up`
        : `the machine did not answer over ${where} within ${ASK_WITHIN_MS / 1000} s (${reason}); nothing to take off the mesh, or, if it still runs, it stays on it until it is deleted at the end of this up`,
    );
    return 0;
  }
  say(`the machine leaves the mesh; waiting until ${where} no longer answers`);
  // One quick run at a time, from a second after the machine leaves: the first that cannot
  // reach it is the proof. Through a jump host a dial has no timeout of its own (nor has the
  // provider's), and a connection made just before the machine left hangs in its handshake:
  // each attempt has a deadline, and running out of it counts as gone too. Only a command
  // that ran (or failed on the machine) means it still answers.
  const deadline = Date.now() + GONE_WITHIN_MS;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 2000));
    const answered = await ssh
      .remote({
        connection: routeConnection(plan.route, { attempts: 1, perDialTimeout: 3 }, key),
        command: "true",
        timeoutMs: 5000,
      })
      .then(
        () => true,
        (error: unknown) => error instanceof CommandFailed,
      );
    if (!answered) {
      say("it has left the mesh");
      return 0;
    }
  }
  say(
    `it still answers over ${where} ${GONE_WITHIN_MS / 1000} s after it said it leaves (its /var/lib/clawd-mesh/retire.log says why). Fix: stop its WireGuard or delete the machine by hand, then run up again; the new machine is not configured until then`,
  );
  return 1;
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
