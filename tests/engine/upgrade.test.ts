// The first `up` after an upgrade, through the lab's engine with stand-in clouds: a fleet
// deployed by an earlier version of this program (checked out from git), then the program of
// this tree. From commit dadf6c0 every cloud node had a provider firewall of its own; now nodes
// that open the same ports share one, and most resources are declared lean (the same requests);
// each created machine has a retire, and the receiver learned it (so every node is pushed once).
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineStack as defineStackNow } from "../../components/stack";
import { EngineWorld, engineFleet } from "../helpers/engineWorld";
import { PROJECT_DIR } from "../helpers/stacks";
import type { StepRecord } from "../../lab/engine/deployment";
import { loadBundle } from "../../core/delivery/bundleStore";

jest.setTimeout(180_000);

/** The last commit with a provider firewall per node. */
const BEFORE = "dadf6c0";
let dir: string;
let before: typeof defineStackNow;
/** That version's bundle store: its bundles hash with its own push scripts. */
let loadBefore: typeof loadBundle;

beforeAll(() => {
  // A worktree of that commit, on this tree's node_modules (the same SDK and providers) and
  // bundle store (the engine's command provider runs this tree's push, which loads from it).
  dir = join(mkdtempSync(join(tmpdir(), "clawd-mesh-upgrade-")), "tree");
  execFileSync("git", ["-C", PROJECT_DIR, "worktree", "add", "--detach", dir, BEFORE], {
    stdio: "ignore",
  });
  symlinkSync(join(PROJECT_DIR, "node_modules"), join(dir, "node_modules"));
  mkdirSync(join(PROJECT_DIR, ".clawd-mesh"), { recursive: true });
  symlinkSync(join(PROJECT_DIR, ".clawd-mesh"), join(dir, ".clawd-mesh"));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  before = (require(join(dir, "components", "stack")) as { defineStack: typeof defineStackNow })
    .defineStack;
  const store = join(dir, "core", "delivery", "bundleStore");
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  loadBefore = (require(store) as { loadBundle: typeof loadBundle }).loadBundle;
});

afterAll(() => {
  execFileSync("git", ["-C", PROJECT_DIR, "worktree", "remove", "--force", dir]);
  rmSync(join(dir, ".."), { recursive: true, force: true });
});

const changed = (steps: readonly StepRecord[]) =>
  steps
    .filter((s) => s.op !== "same")
    .map((s) => `${s.op} ${s.type.split(":").pop()} ${s.urn.split("::").pop()}`);

/** What the edge in front of each cloud host lets through, by host name. */
function edges(w: EngineWorld): Record<string, string[]> {
  return Object.fromEntries(
    [...w.cloud.hosts.values()]
      .filter((h) => h.name)
      .map((h) => [h.name, (h.edge ?? []).map((r) => `${r.protocol}/${r.ports} ${r.cidr}`).sort()]),
  );
}

test("Vultr: the nodes move to one shared firewall in place; the old ones go after; each node is pushed once", async () => {
  const fleet = engineFleet("clavitor", ["zurich", "tokyo", "seoul"]);
  const w = new EngineWorld({ fleet, define: before });
  w.transport.load = loadBefore;
  expect((await w.run()).errors).toEqual([]);
  w.transport.load = loadBundle;
  const open = edges(w);
  expect(Object.keys(open).sort()).toEqual(["seoul", "tokyo"]);

  w.setProgram(defineStackNow);
  const upgrade = await w.run();
  expect(upgrade.errors).toEqual([]);
  const steps = changed(upgrade.steps);
  // One group with its rules, the two instances moved, then the old groups and rules deleted.
  const group = steps.filter((s) => s.startsWith("create FirewallGroup"));
  expect(group).toEqual([
    expect.stringMatching(/^create FirewallGroup clavitor-public-[0-9a-f]{8}$/),
  ]);
  expect(steps.filter((s) => s.includes("Instance"))).toEqual([
    "update Instance seoul",
    "update Instance tokyo",
  ]);
  // Deletes come last: the old groups and rules, and the replaced pushes' records.
  const firstDelete = steps.findIndex((s) => s.startsWith("delete"));
  expect(steps.slice(firstDelete).every((s) => /^delete(-replaced)? /.test(s))).toBe(true);
  expect(steps.filter((s) => s.startsWith("delete FirewallGroup")).sort()).toEqual([
    "delete FirewallGroup seoul-firewall",
    "delete FirewallGroup tokyo-firewall",
  ]);
  // Besides: each Vultr machine gets its retire (nothing runs until it is replaced); the push
  // scripts changed (the receiver learned `retire`), so each node is pushed once; the vault
  // rollout's script is named from the project folder now (it was an absolute path), so it
  // runs once more, with the same binary, which each node keeps. No server, key or record.
  expect(steps.filter((s) => !/Firewall|Instance|^delete-replaced /.test(s))).toEqual([
    "create Command seoul-retire",
    "create Command tokyo-retire",
    "replace Command zurich-push",
    "replace Command seoul-push",
    "replace Command tokyo-push",
    "update Command clavitor-vault-rollout-command",
  ]);
  const rollout = upgrade.steps.find((s) => s.urn.endsWith("clavitor-vault-rollout-command"));
  expect(rollout?.diffs).toEqual(["create"]);
  // The hub first (the spokes' pushes wait for it), no first contact, no retire, the rollout last.
  const ran = upgrade.ran.map((r) => `${r.kind} ${r.host}`);
  expect(ran.slice(0, 2)).toEqual(["push 10.84.0.1", "confirm 10.84.0.1"]);
  expect(ran.slice(2, 6).sort()).toEqual([
    "confirm 10.84.0.10",
    "confirm 10.84.0.11",
    "push 10.84.0.10",
    "push 10.84.0.11",
  ]);
  expect(ran.slice(6)).toEqual(["other localhost"]);
  // The same ports open in front of each node, and the next up does nothing.
  expect(edges(w)).toEqual(open);
  const next = await w.run();
  expect(changed(next.steps)).toEqual([]);
});

test("AWS: the node moves to its region's shared security group in place; its key pair stays; it is pushed once", async () => {
  const fleet = engineFleet("openclaw");
  const w = new EngineWorld({ fleet, define: before });
  w.transport.load = loadBefore;
  expect((await w.run()).errors).toEqual([]);
  w.transport.load = loadBundle;
  const open = edges(w);

  w.setProgram(defineStackNow);
  const upgrade = await w.run();
  expect(upgrade.errors).toEqual([]);
  // Its retire is new; the push scripts changed, so it is pushed once, and the kubeconfig read
  // that follows its push runs again.
  expect(changed(upgrade.steps)).toEqual([
    expect.stringMatching(/^create SecurityGroup openclaw-us-east-1-public-[0-9a-f]{8}$/),
    "update Instance server-1",
    "create Command server-1-retire",
    "replace Command server-1-push",
    "replace Command openclaw-k3s-kubeconfig",
    "delete-replaced Command openclaw-k3s-kubeconfig",
    "delete-replaced Command server-1-push",
    "delete SecurityGroup server-1-sg",
  ]);
  expect(upgrade.ran.map((r) => r.kind)).toEqual(["push", "confirm", "kubeconfig"]);
  expect(edges(w)).toEqual(open);
  expect(changed((await w.run()).steps)).toEqual([]);
});
