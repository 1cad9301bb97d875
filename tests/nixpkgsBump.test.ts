// scripts/nixpkgs-bump.sh, which the scheduled workflow runs: against stand-ins for `git
// ls-remote` and `nix-prefetch-url` (no network here), on copies of the real stack files.
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { toNixBase32 } from "../core/crypto/nixHash";
import { nixpkgsUrl } from "../core/fleet/checkNixpkgs";
import { validateFleet } from "../core/fleet/validate";
import { PROJECT_DIR } from "./helpers/stacks";
import { run, tempDir } from "./helpers/run";

const NEW_REV = "89abcdef0123456789abcdef0123456789abcdef";
const NEW_SHA = toNixBase32(new Uint8Array(32).fill(42));
const STACKS = ["prod", "clavitor", "openclaw", "clawd", "ollama-home"];

const tmp = tempDir("bump");
afterAll(() => tmp.remove());
const bin = join(tmp.path, "bin");
const calls = join(tmp.path, "calls");
mkdirSync(bin);
const stub = (name: string, body: string) => {
  writeFileSync(join(bin, name), `#!/bin/sh\necho "${name} $*" >>"${calls}"\n${body}\n`);
  chmodSync(join(bin, name), 0o755);
};
stub("git", `printf '%s\\trefs/heads/%s\\n' ${NEW_REV} "\${3#refs/heads/}"`);
stub("nix-prefetch-url", `echo ${NEW_SHA}`);

function bump(dir: string) {
  const files = STACKS.map((s) => `Pulumi.${s}.yaml`);
  return run("sh", [join(PROJECT_DIR, "scripts/nixpkgs-bump.sh"), ...files], {
    cwd: dir,
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
  });
}

function copyStacks(dir: string) {
  mkdirSync(dir);
  for (const s of ["Pulumi.yaml", ...STACKS.map((x) => `Pulumi.${x}.yaml`)]) {
    copyFileSync(join(PROJECT_DIR, s), join(dir, s));
  }
}

const fleetOf = (dir: string, stack: string) =>
  parse(readFileSync(join(dir, `Pulumi.${stack}.yaml`), "utf8")).config["clawd-mesh:fleet"];

test("moves each pin to its branch's head with nix's hash, and changes no other line", () => {
  const dir = join(tmp.path, "once");
  copyStacks(dir);
  const r = bump(dir);
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  const old = fleetOf(PROJECT_DIR, "prod").nixpkgs.rev as string;
  expect(r.stdout.trim().split("\n")).toEqual(
    ["prod", "clavitor", "openclaw"].map(
      (s) =>
        `- Pulumi.${s}.yaml: nixos-26.05 ${old.slice(0, 12)} → ${NEW_REV.slice(0, 12)} ([changes](https://github.com/NixOS/nixpkgs/compare/${old}...${NEW_REV}))`,
    ),
  );
  // The hash is computed for the archive the nodes fetch (core names it once).
  expect(readFileSync(calls, "utf8")).toContain(`nix-prefetch-url --unpack ${nixpkgsUrl(NEW_REV)}`);
  expect(readFileSync(calls, "utf8")).toContain(
    "git ls-remote https://github.com/NixOS/nixpkgs refs/heads/nixos-26.05",
  );
  for (const stack of STACKS) {
    const before = readFileSync(join(PROJECT_DIR, `Pulumi.${stack}.yaml`), "utf8").split("\n");
    const after = readFileSync(join(dir, `Pulumi.${stack}.yaml`), "utf8").split("\n");
    const changed = after.filter((line, i) => line !== before[i]);
    expect([stack, after.length]).toEqual([stack, before.length]);
    const pinned = fleetOf(PROJECT_DIR, stack).nixpkgs !== undefined;
    expect(changed).toEqual(pinned ? [`      rev: ${NEW_REV}`, `      sha256: ${NEW_SHA}`] : []);
    // The result is a valid stack whose NixOS nodes build from the new commit.
    const fleet = validateFleet(fleetOf(dir, stack));
    if (pinned) expect([fleet.nixpkgs?.rev, fleet.nixpkgs?.sha256]).toEqual([NEW_REV, NEW_SHA]);
  }
});

test("a pin already at the head is left alone, and nothing is printed", () => {
  const dir = join(tmp.path, "twice");
  copyStacks(dir);
  expect(bump(dir).status).toBe(0);
  const snapshot = STACKS.map((s) => readFileSync(join(dir, `Pulumi.${s}.yaml`), "utf8"));
  writeFileSync(calls, "");
  const again = bump(dir);
  expect([again.status, again.stdout, again.stderr]).toEqual([0, "", ""]);
  expect(STACKS.map((s) => readFileSync(join(dir, `Pulumi.${s}.yaml`), "utf8"))).toEqual(snapshot);
  expect(readFileSync(calls, "utf8")).not.toContain("nix-prefetch-url");
});
