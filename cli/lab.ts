// npm run lab -- [--stack <stack>] [--keep] [--out <dir>] [--window <seconds>]
// npm run lab -- down
// Rehearses a stack on this machine (Linux, as root): its hosts as network namespaces on a
// simulated internet, configured over real SSH by the same pushes as `pulumi up`, then a
// reachability matrix checked against the policy. Exits non-zero on any mismatch.
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { loadStackFleet } from "../core/fleet/load";
import { validateFleet } from "../core/fleet/validate";
import { DEFAULT_ROLLBACK_WINDOW } from "../core/push/command";
import { Lab } from "../lab/lab";
import { labDown } from "../lab/down";
import { readState } from "../lab/state";
import { probeMatrix, printMatrix } from "../lab/probe";
import { startK3sApi, startOllama } from "../lab/standins";

const PROJECT_DIR = resolve(__dirname, "..");

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      stack: { type: "string", default: "prod" },
      keep: { type: "boolean", default: false },
      out: { type: "string", default: "." },
      window: { type: "string", default: String(DEFAULT_ROLLBACK_WINDOW) },
    },
  });
  const log = (line: string) => console.log(line);
  if (process.getuid?.() !== 0) {
    console.error("the lab makes network namespaces and mounts: run it as root");
    return 2;
  }
  if (positionals[0] === "down") return labDown(log) ? 0 : 1;
  if (positionals.length > 0) {
    console.error(`unknown command ${positionals[0]}: use "down", or no command to bring a lab up`);
    return 2;
  }
  if (readState()) {
    console.error("a lab is already up: npm run lab -- down");
    return 2;
  }
  const stack = values.stack ?? "prod";
  const fleet = validateFleet(loadStackFleet(PROJECT_DIR, stack));
  const started = Date.now();
  log(`lab ${stack}: ${fleet.nodes.length} nodes, ${fleet.peers.length} peers`);
  let lab: Lab | undefined;
  try {
    lab = new Lab(fleet, { stack, windowSeconds: Number(values.window), log });
    const steps = await lab.converge();
    const failed = steps.filter((s) => !s.ok);
    log(`converged in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    // Stand-ins where Ollama and the k3s API would listen (the real ones cannot run here).
    const ollama = startOllama(lab);
    const k3s = startK3sApi(lab);
    if (ollama.length + k3s.length > 0) {
      log(
        `stand-ins: Ollama API on ${ollama.join(", ") || "none"}; k3s API on ${k3s.join(", ") || "none"}`,
      );
    }
    const matrix = await probeMatrix(lab);
    printMatrix(matrix, log);
    if (values.keep) {
      const dir = resolve(values.out ?? ".");
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "lab.json"), `${JSON.stringify(lab.labJson(), null, 2)}\n`);
      log(`kept: ${join(dir, "lab.json")}; remove with: npm run lab -- down`);
    }
    const mismatches = matrix.cells.filter((c) => c.actual !== c.expected).length;
    if (failed.length > 0 || mismatches > 0) {
      log(`FAILED: ${failed.length} push step(s) failed, ${mismatches} reachability mismatch(es)`);
      return 1;
    }
    log(`ok: every push confirmed, matrix matches the policy (${matrix.cells.length} probes)`);
    return 0;
  } finally {
    if (!values.keep) labDown(() => undefined);
  }
}

main().then(
  (code) => (process.exitCode = code),
  (error) => {
    console.error(error instanceof Error ? error.message : error);
    if (!process.argv.includes("--keep")) labDown(() => undefined);
    process.exitCode = 1;
  },
);
