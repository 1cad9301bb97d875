// Running the real tools from tests. A missing tool fails the test with the install hint:
// a check that silently skips would pass on a machine where it proves nothing.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Ran {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(
  command: string,
  args: readonly string[],
  options: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Ran {
  const result = spawnSync(command, args, {
    input: options.input,
    encoding: "utf8",
    timeout: options.timeoutMs ?? 30_000,
    env: options.env ?? process.env,
    cwd: options.cwd,
  });
  if (result.error) throw new Error(`${command} ${args.join(" ")}: ${result.error.message}`);
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs and throws with the tool's own words unless it exits 0. */
export function runOk(
  command: string,
  args: readonly string[],
  options: Parameters<typeof run>[2] = {},
): string {
  const r = run(command, args, options);
  if (r.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} exited ${r.status}:\n${r.stderr}${r.stdout}`);
  }
  return r.stdout;
}

export function requireTools(...tools: string[]): void {
  const missing = tools.filter((t) => run("sh", ["-c", `command -v ${t}`]).status !== 0);
  if (missing.length > 0) {
    throw new Error(
      `missing tools: ${missing.join(", ")}; install them with scripts/setup.sh (Debian packages)`,
    );
  }
}

export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `clawd-mesh-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
