// Where the lab's engine keeps each stack's checkpoint, and reading a stack's outputs from it
// (for a StackReference, and for the lab's own probes and peers).
import { join } from "node:path";
import { LAB_ROOT } from "../state";
import { CheckpointFile } from "./state";
import type { Props } from "./values";

const DIR = join(LAB_ROOT, "engine");

export function checkpointFile(stack: string): CheckpointFile {
  if (!/^[A-Za-z0-9_.-]+$/.test(stack)) throw new Error(`"${stack}" is not a stack name`);
  return new CheckpointFile(join(DIR, `${stack}.json`), join(DIR, "secrets.key"));
}

/** The outputs of a stack's last run (its `pulumi:pulumi:Stack` resource), secrets wrapped. */
export function stackOutputs(stack: string): Props | undefined {
  const root = checkpointFile(stack)
    .load(stack)
    .resources.find((r) => r.type === "pulumi:pulumi:Stack");
  return root?.outputs;
}
