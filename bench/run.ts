// npm run bench [-- --lab]: the program's scale on generated fleets, each measurement in a
// process of its own (bench/program.ts) so its time includes compiling the program and its
// peak memory is its own. Mocks stand in for the cloud; nothing leaves the machine. With --lab
// (root; no other lab may be up), the lab at 16 and 64 nodes too.
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { loadStackFleet } from "../core/fleet/load";
import { synthesize } from "../core/synth";
import { generatedFleet } from "./fleet";
import { benchLab } from "./lab";

const PROJECT_DIR = resolve(__dirname, "..");
const SIZES = [16, 64, 254];
/** The cloud's answer time when measuring the critical path: long beside the program's work. */
const WAIT_MS = 5000;

interface Measurement {
  readonly size: number;
  readonly resources: number;
  /** In the program's own process, after compiling. */
  readonly ms: number;
  readonly inputBytes: number;
  readonly largestCommandInputs: number;
  readonly cpuMs: number;
  readonly peakRssBytes: number;
  /** Under bench/pulumiTypeScript.js: which tsconfig, and whether it type-checked. */
  readonly typescript?: { readonly tsconfig: string; readonly typeChecked: boolean };
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const start = process.hrtime.bigint();
  const out = execFileSync(command, args, {
    cwd: PROJECT_DIR,
    encoding: "utf8",
    maxBuffer: 1 << 20,
    env,
  });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  return { ...(JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as Measurement), wallMs };
}

/** The program compiled by tsx (esbuild, no type-check): the program's own cost. */
function measure(size: number, waitMs = 0): Measurement & { wallMs: number } {
  const tsx = join(PROJECT_DIR, "node_modules", ".bin", "tsx");
  return run(tsx, [join(__dirname, "program.ts"), String(size), String(waitMs)]);
}

/** The program compiled as `pulumi up` compiles it (bench/pulumiTypeScript.js), with a tsconfig. */
function measureAsPulumi(size: number, tsconfig?: string) {
  const runner = join(__dirname, "pulumiTypeScript.js");
  const env = { ...process.env, BENCH_TSCONFIG: tsconfig ?? "" };
  return run(process.execPath, [runner, join(__dirname, "program.ts"), String(size)], env);
}

function time(work: () => unknown): number {
  const start = process.hrtime.bigint();
  work();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const x = (a: number, b: number) => `×${(a / b).toFixed(1)}`;
const row = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { lab: { type: "boolean", default: false } } });

  console.log("## The program on generated hub-and-spoke fleets (mocks, zero-latency cloud)\n");
  console.log(
    row([
      "nodes",
      "resources",
      "time",
      "CPU time",
      "peak memory",
      "time ÷ 16's",
      "memory ÷ 16's",
      "inputs of all resources",
      "largest Command's inputs",
    ]),
  );
  console.log(row(Array(9).fill("---")));
  const runs = SIZES.map((size) => measure(size));
  const [base] = runs;
  for (const r of runs) {
    if (!base) break;
    console.log(
      row([
        r.size,
        r.resources,
        s(r.wallMs),
        s(r.cpuMs),
        mb(r.peakRssBytes),
        x(r.wallMs, base.wallMs),
        x(r.peakRssBytes, base.peakRssBytes),
        mb(r.inputBytes),
        `${(r.largestCommandInputs / 1000).toFixed(1)} kB`,
      ]),
    );
  }
  console.log("\n(time and CPU time: the whole process, compiling the program included)\n");

  console.log("## The program compiled as `pulumi up` compiles it (ts-node, the SDK's options)\n");
  console.log(row(["tsconfig", "type-checked", "nodes", "time", "CPU time", "peak memory"]));
  console.log(row(Array(6).fill("---")));
  for (const tsconfig of ["tsconfig.json", undefined]) {
    for (const size of [SIZES[0] ?? 16, SIZES.at(-1) ?? 254]) {
      const r = measureAsPulumi(size, tsconfig);
      const how = r.typescript ?? { tsconfig: "?", typeChecked: true };
      console.log(
        row([
          `${how.tsconfig}${tsconfig ? "" : " (Pulumi.yaml's)"}`,
          how.typeChecked ? "yes" : "no",
          size,
          s(r.wallMs),
          s(r.cpuMs),
          mb(r.peakRssBytes),
        ]),
      );
    }
  }
  console.log("");

  console.log(`## Critical path: a cloud that answers every resource after ${WAIT_MS} ms\n`);
  console.log(row(["nodes", "program time", "with the wait", "steps ((with − without) ÷ wait)"]));
  console.log(row(Array(4).fill("---")));
  for (const size of [SIZES[0] ?? 16, SIZES.at(-1) ?? 254]) {
    const without = measure(size);
    const waited = measure(size, WAIT_MS);
    console.log(
      row([size, s(without.ms), s(waited.ms), ((waited.ms - without.ms) / WAIT_MS).toFixed(1)]),
    );
  }

  console.log("\n## Synth (validate, plan, render every file)\n");
  console.log(row(["fleet", "files", "time"]));
  console.log(row(Array(3).fill("---")));
  const stacks = readdirSync(PROJECT_DIR)
    .flatMap((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1] ?? [])
    .sort();
  for (const stack of stacks) {
    const raw = loadStackFleet(PROJECT_DIR, stack);
    const files = synthesize(raw).files.size;
    console.log(row([stack, files, `${time(() => synthesize(raw)).toFixed(0)} ms`]));
  }
  for (const size of SIZES) {
    const raw = generatedFleet(size);
    const files = synthesize(raw).files.size;
    console.log(
      row([`generated, ${size} nodes`, files, `${time(() => synthesize(raw)).toFixed(0)} ms`]),
    );
  }

  if (!values.lab) {
    console.log("\n(the lab at 16 and 64 nodes: npm run bench -- --lab, as root)");
    return;
  }
  console.log("\n## The lab on generated fleets\n");
  console.log(row(["nodes", "converged", "in", "probes", "probing", "mismatches"]));
  console.log(row(Array(6).fill("---")));
  for (const size of [16, 64]) {
    const r = await benchLab(size);
    console.log(
      row([
        size,
        r.converged ? "yes" : "NO",
        `${r.convergeSeconds.toFixed(0)} s`,
        r.probes,
        `${r.probeSeconds.toFixed(0)} s`,
        r.mismatches,
      ]),
    );
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
