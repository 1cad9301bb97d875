// The first `up` after an upgrade, through the lab's engine with stand-in clouds: a fleet
// deployed by an earlier version of this program (checked out from git), then the program of
// this tree. From commit dadf6c0 every cloud node had a provider firewall of its own; now nodes
// that open the same ports share one, and most resources are declared lean (the same requests).
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineStack as defineStackNow } from "../../components/stack";
import { EngineWorld, engineFleet } from "../helpers/engineWorld";
import { PROJECT_DIR } from "../helpers/stacks";
import type { StepRecord } from "../../lab/engine/deployment";

jest.setTimeout(180_000);

/** The last commit with a provider firewall per node. */
const BEFORE = "dadf6c0";
let dir: string;
let before: typeof defineStackNow;

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

test("Vultr: the nodes move to one shared firewall in place; the old ones go after; no push runs", async () => {
  const fleet = engineFleet("clavitor", ["zurich", "tokyo", "seoul"]);
  const w = new EngineWorld({ fleet, define: before });
  expect((await w.run()).errors).toEqual([]);
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
  const firstDelete = steps.findIndex((s) => s.startsWith("delete"));
  expect(steps.slice(firstDelete).every((s) => s.startsWith("delete Firewall"))).toBe(true);
  expect(steps.filter((s) => s.startsWith("delete FirewallGroup")).sort()).toEqual([
    "delete FirewallGroup seoul-firewall",
    "delete FirewallGroup tokyo-firewall",
  ]);
  // Nothing else changed but the vault rollout's script, named from the project folder now
  // (it was an absolute path): it runs once more, with the same binary, which each node keeps.
  // No server, key or record; no push ran.
  expect(steps.filter((s) => !/Firewall|Instance/.test(s))).toEqual([
    "update Command clavitor-vault-rollout-command",
  ]);
  const rollout = upgrade.steps.find((s) => s.urn.endsWith("clavitor-vault-rollout-command"));
  expect(rollout?.diffs).toEqual(["create"]);
  expect(upgrade.ran.map((r) => r.kind)).toEqual(["other"]);
  // The same ports open in front of each node, and the next up does nothing.
  expect(edges(w)).toEqual(open);
  const next = await w.run();
  expect(changed(next.steps)).toEqual([]);
});

test("AWS: the node moves to its region's shared security group in place; its key pair stays", async () => {
  const fleet = engineFleet("openclaw");
  const w = new EngineWorld({ fleet, define: before });
  expect((await w.run()).errors).toEqual([]);
  const open = edges(w);

  w.setProgram(defineStackNow);
  const upgrade = await w.run();
  expect(upgrade.errors).toEqual([]);
  expect(changed(upgrade.steps)).toEqual([
    expect.stringMatching(/^create SecurityGroup openclaw-us-east-1-public-[0-9a-f]{8}$/),
    "update Instance server-1",
    "delete SecurityGroup server-1-sg",
  ]);
  expect(upgrade.ran).toEqual([]);
  expect(edges(w)).toEqual(open);
  expect(changed((await w.run()).steps)).toEqual([]);
});
