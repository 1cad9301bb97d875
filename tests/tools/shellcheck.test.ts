// shellcheck on every shell script in the project.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { PROJECT_DIR } from "../helpers/stacks";
import { requireTools, run } from "../helpers/run";

requireTools("shellcheck");

const SKIP = new Set(["node_modules", ".git", "out", "dist", "coverage"]);

function shellScripts(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    if (SKIP.has(entry)) return [];
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return shellScripts(path);
    const first = readFileSync(path, "utf8").split("\n", 1)[0] ?? "";
    return entry.endsWith(".sh") || /^#!.*\b(ba|da)?sh\b/.test(first) ? [path] : [];
  });
}

const scripts = shellScripts(PROJECT_DIR).map((p) => relative(PROJECT_DIR, p));

test("the project has shell scripts to check", () => {
  expect(scripts).toEqual(expect.arrayContaining([".ci/run", "scripts/setup.sh"]));
});

test.each(scripts)("shellcheck %s", (script) => {
  const r = run("shellcheck", ["-x", script], { cwd: PROJECT_DIR });
  expect(r.stdout + r.stderr).toBe("");
  expect(r.status).toBe(0);
});
