// npm run bench: the timings quoted in the README and the issue notes, from repeated runs on
// this machine (median, min, max). Mocks stand in for the cloud; nothing leaves the machine.
import { loadStackFleet } from "../core/fleet/load";
import { synthesize } from "../core/synth";
import { generatedFleet } from "../tests/helpers/generated";
import { graphDepth } from "../tests/helpers/graph";
import { runFleet, runStack } from "../tests/helpers/program";
import { PROJECT_DIR, STACKS } from "../tests/helpers/stacks";

async function time(runs: number, work: () => unknown): Promise<string> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    await work();
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  samples.sort((a, b) => a - b);
  const median = samples[Math.floor(samples.length / 2)] ?? 0;
  const f = (n: number) => n.toFixed(1).padStart(8);
  return `${f(median)} ms median ${f(samples[0] ?? 0)} min ${f(samples.at(-1) ?? 0)} max  (${runs} runs)`;
}

async function main(): Promise<void> {
  console.log("synth (validate, plan, render every file) per stack:");
  for (const stack of STACKS.filter((s) => s !== "all-features")) {
    const raw = loadStackFleet(PROJECT_DIR, stack);
    const files = synthesize(raw).files.size;
    console.log(
      `  ${stack.padEnd(12)} ${String(files).padStart(4)} files ${await time(20, () => synthesize(raw))}`,
    );
  }
  console.log("\nthe program under Pulumi's mocks (zero-latency cloud):");
  for (const stack of STACKS.filter((s) => s !== "all-features")) {
    const count = (await runStack(stack)).resources.length;
    console.log(
      `  ${stack.padEnd(12)} ${String(count).padStart(4)} resources ${await time(5, () => runStack(stack))}`,
    );
  }
  console.log("\nresource graph of generated hub-and-spoke fleets:");
  for (const size of [16, 128]) {
    const run = await runFleet(generatedFleet(size));
    const line = `  ${String(size).padStart(3)} nodes ${String(run.resources.length).padStart(5)} resources, depth ${graphDepth(run.resources)}`;
    console.log(`${line} ${await time(3, () => runFleet(generatedFleet(size)))}`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
