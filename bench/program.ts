// One measurement in a process of its own, so that its peak memory is its own:
//   tsx bench/program.ts SIZE [WAIT_MS]
// Runs the program on a generated fleet of SIZE nodes under the mocks and prints one line of
// JSON: resources, the program's time in this process, the bytes of every resource's inputs,
// and the process's peak memory. With WAIT_MS the cloud answers each resource after that long.
import { generatedFleet } from "./fleet";
import { runProgram } from "./mocks";

async function main(): Promise<void> {
  const size = Number(process.argv[2]);
  const waitMs = Number(process.argv[3] ?? 0);
  if (!Number.isInteger(size) || size < 2) throw new Error(`usage: program.ts SIZE [WAIT_MS]`);
  const start = process.hrtime.bigint();
  const registered = await runProgram(generatedFleet(size), waitMs);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const inputs = registered.reduce((sum, r) => sum + Buffer.byteLength(r.inputs), 0);
  const commands = registered.filter((r) => r.type.startsWith("command:"));
  process.stdout.write(
    `${JSON.stringify({
      size,
      waitMs,
      resources: registered.length,
      ms,
      inputBytes: inputs,
      largestCommandInputs: Math.max(0, ...commands.map((c) => Buffer.byteLength(c.inputs))),
      // Whole process, compiling included: the machine may be shared, and CPU time tells.
      cpuMs: (process.resourceUsage().userCPUTime + process.resourceUsage().systemCPUTime) / 1000,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      ...(process.env.BENCH_TYPESCRIPT && {
        typescript: JSON.parse(process.env.BENCH_TYPESCRIPT) as unknown,
      }),
    })}\n`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
