// The manifest (core/plan/files.ts): every file a push brings has a place, no two rows race
// for one destination, and the push scripts name no destination of their own.
import { readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { RECEIVERS } from "../../core/delivery/command";
import {
  BOOT_ROLLBACK,
  MANIFEST_FILE,
  NODE_ENV_FILE,
  PENDING_DIR,
  placeFiles,
  secretNames,
} from "../../core/plan/files";
import { renderBundle } from "../../core/render/bundle";
import { PUSH_DIR } from "../../core/render/pushArchive";
import { allNodes, stackSynthesis } from "../helpers/stacks";

// rollout.sh runs on the operator's machine, which does not know a node's OS: it tries each
// place a receiver may be, as core/delivery/command.ts does (held equal below).
const scripts = readdirSync(PUSH_DIR)
  .filter((f) => f.endsWith(".sh") && f !== "rollout.sh")
  .map((f) => [f, readFileSync(join(PUSH_DIR, f), "utf8")] as const);

function nodeOf(stack: Parameters<typeof stackSynthesis>[0], name: string) {
  const node = stackSynthesis(stack).plan.nodes.find((n) => n.name === name);
  if (!node) throw new Error(`no node ${name} in ${stack}`);
  return node;
}

describe.each(allNodes())("%s/%s", (stack, name) => {
  const node = nodeOf(stack, name);
  const bundle = renderBundle(node);
  const rows = placeFiles(node, [...bundle.keys()]);
  const manifest = (bundle.get("manifest") ?? "")
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith("#"));

  test("the bundle's manifest is the table, one row of seven words a line", () => {
    expect(manifest).toHaveLength(rows.length);
    for (const line of manifest) expect(line.split(" ")).toHaveLength(7);
  });

  test("every row's source is in the push, and every secret it carries has a row", () => {
    for (const r of rows) {
      if (r.source.startsWith("bundle/")) expect(bundle.has(r.source.slice(7))).toBe(true);
      if (r.source.startsWith("scripts/"))
        expect(scripts.map(([f]) => `scripts/${f}`)).toContain(r.source);
    }
    const placedSecrets = rows.filter((r) => r.kind === "secret").map((r) => r.source.slice(8));
    const carried = secretNames(node).filter(
      // NixOS reads its host key from where its first boot put it.
      (s) => !(node.os === "nixos" && s === "ssh_host_ed25519_key"),
    );
    expect(placedSecrets.sort()).toEqual(carried.sort());
  });

  test("every file of the bundle that this OS reads is placed", () => {
    const sources = new Set(rows.map((r) => r.source));
    const unplaced = [...bundle.keys()].filter((p) => !sources.has(`bundle/${p}`));
    if (node.os === "nixos") {
      // The modules read node.json; the generic renderings stay for reviewers only.
      for (const p of unplaced) expect(p).not.toMatch(/^(clawd-mesh\/|configuration\.nix$)/);
    } else {
      // apt's files on hosts without apt are the one thing left out.
      expect(unplaced.filter((p) => !p.startsWith("apt/"))).toEqual([]);
    }
  });

  test("no two rows of one push write one destination", () => {
    for (const phase of ["mesh", "first"]) {
      const written = rows
        .filter((r) => r.kind !== "dir" && (r.phase === "any" || r.phase === phase))
        .map((r) => r.destination);
      expect(written.length).toBe(new Set(written).size);
    }
  });

  test("a host that is not NixOS gets the boot rollback, enabled for early boot", () => {
    const boot = rows.filter((r) => r.onChange.some(([, action]) => action === "enable-boot"));
    if (node.os === "nixos") {
      expect(boot).toEqual([]);
      return;
    }
    expect(boot.map((r) => [r.destination, r.onChange])).toEqual([
      node.os === "alpine"
        ? [`/etc/init.d/${BOOT_ROLLBACK}`, [[BOOT_ROLLBACK, "enable-boot"]]]
        : [
            `/etc/systemd/system/${BOOT_ROLLBACK}.service`,
            [[`${BOOT_ROLLBACK}.service`, "enable-boot"]],
          ],
    ]);
  });

  test("the push scripts name none of its destinations", () => {
    const anchors = new Set([NODE_ENV_FILE, MANIFEST_FILE]);
    for (const r of rows) {
      if (anchors.has(r.destination) || r.kind === "dir") continue;
      for (const [file, text] of scripts)
        expect([file, text.includes(r.destination)]).toEqual([file, false]);
    }
  });
});

test("lib.sh starts from the same two files core names", () => {
  const lib = readFileSync(join(PUSH_DIR, "lib.sh"), "utf8");
  expect(lib).toContain(`\nNODE_ENV_FILE=${NODE_ENV_FILE}\n`);
  expect(lib).toContain(`\nMANIFEST_FILE=${MANIFEST_FILE}\n`);
  // Where the boot rollback looks for a pending push's rollback.sh.
  expect(lib).toContain(
    `\nSTATE=${dirname(PENDING_DIR)}\nPENDING=$STATE/${basename(PENDING_DIR)}\n`,
  );
});

test("rollout.sh tries the receivers where core/delivery/command.ts does", () => {
  const rollout = readFileSync(join(PUSH_DIR, "rollout.sh"), "utf8");
  expect(rollout).toContain(`for r in ${RECEIVERS}; do`);
});

test("a changed k3s token restarts k3s under its unit's name on each role (its configuration, elsewhere than NixOS, the same way)", () => {
  const restarts = (name: string) =>
    placeFiles(nodeOf("all-features", name), [...renderBundle(nodeOf("all-features", name)).keys()])
      .filter((r) => r.destination.startsWith("/etc/rancher/") || r.source === "secrets/k3s-token")
      .map((r) => [r.destination, r.onChange.map(([unit]) => unit)]);
  // The server: k3s.service, NixOS's name and the install script's.
  expect(restarts("kube")).toEqual([["/etc/clawd-mesh/k3s-token", ["k3s.service"]]]);
  // An agent: also k3s-agent.service, the install script's name for an agent.
  expect(restarts("worker")).toEqual([
    ["/etc/clawd-mesh/k3s-token", ["k3s.service", "k3s-agent.service"]],
  ]);
});
