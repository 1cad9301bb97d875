// The per-OS profile reaches the push scripts through node.env, and the scripts use it instead
// of guessing from what they find on the host; the rendered ssh_config takes its host key
// checking as a value.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { OSES } from "../../core/fleet/catalog";
import { initSystemOf, OS_PROFILES } from "../../core/plan/osProfile";
import { renderBundle } from "../../core/render/bundle";
import { PUSH_DIR } from "../../core/render/pushArchive";
import { renderSshConfig } from "../../core/render/sshConfig";
import { stackSynthesis } from "../helpers/stacks";

function envOf(name: string): Map<string, string> {
  const node = stackSynthesis("all-features").plan.nodes.find((n) => n.name === name);
  if (!node) throw new Error(`no node ${name}`);
  const text = renderBundle(node).get("node.env") ?? "";
  return new Map(
    [...text.matchAll(/^([A-Z0-9_]+)='([^']*)'$/gm)].map((m) => [m[1]!, m[2]!] as const),
  );
}

test("every OS has an init system; NixOS boots systemd", () => {
  expect(Object.fromEntries(OSES.map((os) => [os, initSystemOf(os)]))).toEqual({
    nixos: "systemd",
    ubuntu: "systemd",
    debian: "systemd",
    alpine: "openrc",
  });
});

test("node.env carries the OS profile to the scripts", () => {
  const nodes = stackSynthesis("all-features").plan.nodes;
  const alpine = nodes.find((n) => n.os === "alpine");
  const debian = nodes.find((n) => n.os === "debian" || n.os === "ubuntu");
  const nixos = nodes.find((n) => n.os === "nixos");
  expect([alpine, debian, nixos].every(Boolean)).toBe(true);
  const a = envOf(alpine!.name);
  expect([a.get("INIT_SYSTEM"), a.get("PACKAGE_MANAGER"), a.get("ACCOUNT_TOOLS")]).toEqual([
    "openrc",
    "apk",
    "busybox",
  ]);
  expect(a.get("NOLOGIN_SHELL")).toBe(OS_PROFILES.alpine.nologin);
  const d = envOf(debian!.name);
  expect([d.get("INIT_SYSTEM"), d.get("PACKAGE_MANAGER"), d.get("ACCOUNT_TOOLS")]).toEqual([
    "systemd",
    "apt",
    "shadow",
  ]);
  // NixOS's modules make its accounts and packages: only the init system is named.
  const n = envOf(nixos!.name);
  expect([n.get("INIT_SYSTEM"), n.has("PACKAGE_MANAGER"), n.has("ACCOUNT_TOOLS")]).toEqual([
    "systemd",
    false,
    false,
  ]);
});

test("the push scripts do not probe for an init system, package manager or account tools", () => {
  const probes =
    /command -v (rc-service|systemctl|dpkg-query|apt-get|apk|useradd|adduser|gpasswd)\b|-d \/run\/systemd\/system/;
  const found = readdirSync(PUSH_DIR)
    .filter((f) => f.endsWith(".sh"))
    .flatMap((f) =>
      readFileSync(join(PUSH_DIR, f), "utf8")
        .split("\n")
        .filter((line) => probes.test(line))
        .map((line) => `${f}: ${line.trim()}`),
    );
  // The one check left asks whether the init node.env names is the one running.
  expect(found).toEqual([
    "lib.sh: systemd) [ -d /run/systemd/system ] && echo systemd || echo none ;;",
  ]);
});

test.each([
  ["systemd", "/run/systemd/system"],
  ["openrc", "/run/openrc"],
])("init_system: %s when node.env names it and it runs (%s), else none", (init, mark) => {
  const expected = existsSync(mark) ? init : "none";
  const r = spawnSync("sh", ["-c", `. ./lib.sh; INIT_SYSTEM=${init}; init_system`], {
    cwd: PUSH_DIR,
    encoding: "utf8",
  });
  expect([r.status, r.stdout.trim()]).toEqual([0, expected]);
});

test("init_system without INIT_SYSTEM stops with a message instead of guessing", () => {
  const r = spawnSync("sh", ["-c", ". ./lib.sh; unset INIT_SYSTEM; init_system; echo reached"], {
    cwd: PUSH_DIR,
    encoding: "utf8",
  });
  expect(r.status).not.toBe(0);
  expect(r.stdout).not.toContain("reached");
  expect(r.stderr).toContain("node.env names no INIT_SYSTEM");
});

test("ssh_config: accept-new for the operator, yes when asked for pinned keys", () => {
  const s = stackSynthesis("all-features");
  const ours = s.files.get("ssh_config") ?? "";
  expect(ours).toContain("StrictHostKeyChecking accept-new");
  expect(ours).not.toContain("StrictHostKeyChecking yes");
  const pinned = renderSshConfig(s.fleet, s.plan, "yes");
  expect(pinned).not.toContain("accept-new");
  expect(pinned.split("StrictHostKeyChecking yes")).toHaveLength(s.plan.nodes.length + 1);
});
