// The project's stack files, synthesized once per test process.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { loadStackFleet } from "../../core/fleet/load";
import { synthesize, type Synthesis } from "../../core/synth";
import { allFeaturesFleet } from "./fleets";

export const PROJECT_DIR = resolve(__dirname, "..", "..");
/** The project's stack files, and a test fleet that exercises every feature. */
export const STACKS = [
  "prod",
  "clawd",
  "clavitor",
  "openclaw",
  "ollama-home",
  "all-features",
] as const;
export type StackName = (typeof STACKS)[number];

const cache = new Map<string, Synthesis>();

export function stackSynthesis(stack: StackName): Synthesis {
  let s = cache.get(stack);
  if (!s) {
    const raw = stack === "all-features" ? allFeaturesFleet() : loadStackFleet(PROJECT_DIR, stack);
    s = synthesize(raw);
    cache.set(stack, s);
  }
  return s;
}

export function writeFiles(files: ReadonlyMap<string, string>, dir: string): void {
  for (const [path, content] of files) {
    const target = join(dir, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
}

/** Every (stack, node) pair, for describe.each tables. */
export function allNodes(): [StackName, string][] {
  return STACKS.flatMap((stack) =>
    stackSynthesis(stack).plan.nodes.map((n): [StackName, string] => [stack, n.name]),
  );
}
