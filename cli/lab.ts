// npm run lab -- [--stack <stack>] [--keep] [--out <dir>] [--window <seconds>]
//                [--hosts systemd|plain]
// npm run lab -- up|preview|refresh|destroy [--stack <stack>] [--out <dir>] [--window <seconds>]
// npm run lab -- drift [--stack <stack>]     (up and preview also take --replace <urn>, repeated)
// npm run lab -- down
// Rehearses a stack on this machine (Linux, as root): a lab of network namespaces on a
// simulated internet, brought up by the program itself through the lab's engine (its clouds
// booting hosts, its pushes over real SSH), then a reachability matrix checked against the
// policy. With --keep the lab stays, and up/preview/refresh/destroy act on it as `pulumi` would
// on the real fleet: edit the stack file, preview, up. Exits non-zero on any failure.
// A node whose OS runs systemd boots it (a Debian 12 root under systemd-nspawn), so the push
// takes production's path; --hosts plain gives every node an init-less host instead (faster).
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_ROLLBACK_WINDOW } from "../core/delivery/command";
import type { HostInit } from "../lab/host";
import { Lab, type EngineRun } from "../lab/lab";
import { labDown } from "../lab/down";
import { labDrift } from "../lab/drift";
import { readState } from "../lab/state";
import { printMatrix, probeMatrix } from "../lab/probe";
import { startK3sApi, startOllama } from "../lab/standins";
import { checkpointFile } from "../lab/engine/stacks";

const OPERATIONS = ["up", "preview", "refresh", "destroy", "drift"] as const;
type Operation = (typeof OPERATIONS)[number];

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      stack: { type: "string" },
      keep: { type: "boolean", default: false },
      out: { type: "string", default: "." },
      window: { type: "string" },
      replace: { type: "string", multiple: true },
      hosts: { type: "string", default: "systemd" },
    },
  });
  const log = (line: string) => console.log(line);
  if (process.getuid?.() !== 0) {
    console.error("the lab makes network namespaces and mounts: run it as root");
    return 2;
  }
  const command = positionals[0];
  if (command === "down") return labDown(log) ? 0 : 1;
  const hosts = values.hosts;
  if (hosts !== "systemd" && hosts !== "plain") {
    console.error(`--hosts ${hosts}: use systemd or plain`);
    return 2;
  }
  const state = readState();
  const options = {
    stack: values.stack ?? state?.stack ?? "prod",
    // A kept lab keeps the window it was brought up with, unless told another.
    windowSeconds: Number(values.window ?? state?.windowSeconds ?? DEFAULT_ROLLBACK_WINDOW),
    hosts: hosts as HostInit,
    log,
  };
  const out = resolve(values.out ?? ".");
  if (command !== undefined) {
    if (!OPERATIONS.includes(command as Operation)) {
      console.error(`unknown command ${command}: use up, preview, refresh, destroy, drift or down`);
      return 2;
    }
    if (!state) {
      console.error("no lab is up: npm run lab -- --stack <stack> --keep");
      return 2;
    }
    if (state.stack !== options.stack) {
      console.error(`the lab that is up is of stack ${state.stack}, not ${options.stack}`);
      return 2;
    }
    if (command === "drift") {
      const drift = await labDrift(Lab.open(options));
      process.stdout.write(drift.report);
      return drift.exitCode;
    }
    return onKeptLab(
      Lab.open(options),
      command as Exclude<Operation, "drift">,
      out,
      values.replace ?? [],
    );
  }
  if (state) {
    console.error("a lab is up already: npm run lab -- down");
    return 2;
  }
  const started = Date.now();
  let ok = false;
  try {
    const lab = await Lab.create(options);
    lab.site.state.window(options.windowSeconds);
    log(
      `lab ${options.stack}: ${lab.fleet().nodes.length} nodes, ${lab.fleet().peers.length} peers`,
    );
    const runs = await lab.converge();
    const converged = runs.every((r) => r.ok);
    log(`${converged ? "converged" : "FAILED to converge"} in ${seconds(started)} s`);
    const mismatches = converged ? await check(lab) : -1;
    if (values.keep) keep(lab, out);
    ok = converged && mismatches === 0;
    if (!ok)
      log(`FAILED: ${converged ? `${mismatches} reachability mismatch(es)` : "an up failed"}`);
    return ok ? 0 : 1;
  } finally {
    if (!values.keep) labDown(() => undefined);
  }
}

/** An operation on the kept lab, as `pulumi <op>` on the real fleet; the matrix after an up. */
async function onKeptLab(
  lab: Lab,
  operation: Exclude<Operation, "drift">,
  out: string,
  replace: readonly string[],
): Promise<number> {
  const run: EngineRun = await lab.engine(operation, { replace });
  let ok = run.ok;
  if (operation === "up" && run.ok) {
    lab.startPeers();
    ok = (await check(lab)) === 0;
  }
  keep(lab, out);
  return ok ? 0 : 1;
}

/** Stand-ins where Ollama and the k3s API would listen, then the matrix; mismatches counted. */
async function check(lab: Lab): Promise<number> {
  const ollama = startOllama(lab);
  const k3s = startK3sApi(lab);
  if (ollama.length + k3s.length > 0) {
    lab.options.log(
      `stand-ins: Ollama API on ${ollama.join(", ") || "none"}; k3s API on ${k3s.join(", ") || "none"}`,
    );
  }
  const started = Date.now();
  const matrix = await probeMatrix(lab);
  printMatrix(matrix, lab.options.log);
  const mismatches = matrix.cells.filter((c) => c.actual !== c.expected).length;
  lab.options.log(
    `${matrix.cells.length} probes in ${seconds(started)} s, ${mismatches} mismatch(es)` +
      (matrix.settled > 0 ? ` (${matrix.settled} agreed only when tried again)` : ""),
  );
  return mismatches;
}

/** lab.json and state.json, beside each other, as the lab now is. */
function keep(lab: Lab, out: string): void {
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "lab.json"), `${JSON.stringify(lab.labJson(), null, 2)}\n`);
  const file = checkpointFile(lab.options.stack).file;
  if (existsSync(file)) copyFileSync(file, join(out, "state.json"));
  lab.options.log(
    `kept: ${join(out, "lab.json")}, ${join(out, "state.json")}; remove with: npm run lab -- down`,
  );
}

function seconds(since: number): string {
  return ((Date.now() - since) / 1000).toFixed(1);
}

main().then(
  (code) => (process.exitCode = code),
  (error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
