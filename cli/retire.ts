// A replaced machine leaves the mesh before its successor joins (core/delivery/retire.ts says
// why): run on the operator's machine as the delete of the node's `-retire` Command,
//   node_modules/.bin/tsx cli/retire.ts   with the plan in CLAWD_MESH_RETIRE and the operator's
//   key (unless an agent holds it) on stdin.
// What it does and when it succeeds: operator/retire.ts.
import { readFileSync } from "node:fs";
import { parseRetirePlan, RETIRE_PLAN_VARIABLE } from "../core/delivery/retire";
import { retireMachine } from "../operator/retire";
import { sshTransport } from "../operator/ssh";

const plan = parseRetirePlan(process.env[RETIRE_PLAN_VARIABLE]);
retireMachine(plan, {
  ssh: sshTransport({ env: process.env }),
  key: readFileSync(0, "utf8") || undefined,
  say: (line) => process.stderr.write(`clawd-mesh[${plan.node}]: ${line}\n`),
}).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
