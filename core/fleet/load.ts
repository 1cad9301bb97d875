// Reading a stack's fleet from Pulumi.<stack>.yaml without the Pulumi CLI, for synth and the
// lab. The Pulumi program itself reads the same key through pulumi.Config.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

export const FLEET_KEY = "fleet";

export function projectName(projectDir: string): string {
  const project = parse(readFileSync(join(projectDir, "Pulumi.yaml"), "utf8")) as {
    name?: unknown;
  };
  if (typeof project?.name !== "string") throw new Error("Pulumi.yaml has no project name");
  return project.name;
}

/** The raw `<project>:fleet` object of a stack, before validation. */
export function loadStackFleet(projectDir: string, stack: string): unknown {
  if (!/^[A-Za-z0-9_.-]+$/.test(stack)) throw new Error(`"${stack}" is not a stack name`);
  const file = join(projectDir, `Pulumi.${stack}.yaml`);
  if (!existsSync(file)) {
    throw new Error(`there is no stack "${stack}": ${file} does not exist`);
  }
  const doc = parse(readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
  const key = `${projectName(projectDir)}:${FLEET_KEY}`;
  const fleet = doc?.config?.[key];
  if (fleet === undefined) throw new Error(`${file} has no config key ${key}`);
  return fleet;
}
