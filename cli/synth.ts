// npm run synth -- --stack <stack> --out <dir>
// Writes fleet.json, ssh_config and nodes/<name>/* for a stack. Needs no cloud account and no
// Pulumi CLI; the same stack always produces the same bytes.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { loadStackFleet } from "../core/fleet/load";
import { FleetValidationError } from "../core/fleet/problems";
import { synthesize } from "../core/synth";

const HERE = resolve(__dirname, "..");

function main(): number {
  const { values } = parseArgs({
    options: {
      stack: { type: "string", default: "prod" },
      out: { type: "string" },
      // The folder holding Pulumi.yaml and the stack files; this project by default.
      project: { type: "string", default: HERE },
    },
  });
  const stack = values.stack ?? "prod";
  const out = resolve(values.out ?? join("out", stack));
  const started = process.hrtime.bigint();
  const { files, plan } = synthesize(loadStackFleet(resolve(values.project ?? HERE), stack));
  // Only what synth itself writes is replaced, so stale nodes do not linger.
  rmSync(join(out, "nodes"), { recursive: true, force: true });
  for (const [path, content] of files) {
    const target = join(out, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  console.log(
    `synth ${stack}: ${plan.nodes.length} nodes, ${files.size} files in ${out} (${ms.toFixed(0)} ms)`,
  );
  return 0;
}

try {
  process.exitCode = main();
} catch (error) {
  console.error(
    error instanceof FleetValidationError || error instanceof Error ? error.message : error,
  );
  process.exitCode = 1;
}
