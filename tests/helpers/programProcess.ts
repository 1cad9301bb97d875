// Runs a stack's program under the mocks in a process of its own and prints, as JSON, what
// the Pulumi CLI would see: the rejections nothing handled (each error once, as the CLI
// reports them) and what got registered. Jest turns such rejections into a failure of
// whichever test runs, so a test that expects the program to fail runs it here.
// usage: tsx tests/helpers/programProcess.ts STACK [no-images]
import { amiIds, lastRegistered } from "./mocks";
import { runStack } from "./program";

const [stack, images] = process.argv.slice(2);
const rejected = new Set<unknown>();
process.on("unhandledRejection", (reason) => rejected.add(reason));
if (images === "no-images") amiIds.length = 0;

async function main(): Promise<void> {
  await runStack(stack ?? "");
  // Rejections surface on the next turns of the event loop.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
  process.stdout.write(
    `${JSON.stringify({
      rejections: [...rejected].map(message),
      registered: lastRegistered().map((r) => `${r.type}::${r.name}`),
    })}\n`,
  );
}

void main();
