// Scale (issue 15): at 254 nodes the inputs the state keeps stay small, no command carries a
// file, a node's own inputs are what they are at 16 nodes, and the longest chain of resources
// that wait on one another is as long as at 16 nodes.
import { generatedFleet } from "../../bench/fleet";
import { loadBundle } from "../../core/delivery/bundleStore";
import { parsePushPlan, PUSH_PLAN_VARIABLE } from "../../core/delivery/plan";
import { graphDepth } from "../helpers/graph";
import type { Registered } from "../helpers/mocks";
import { runFleet, T, type StackRun } from "../helpers/program";

const bytes = (r: Registered) => Buffer.byteLength(JSON.stringify(r.inputs));

/** A node's own resources: named after it (its host, keys, records, pushes). */
function ownInputs(run: StackRun, node: string): Record<string, number> {
  return Object.fromEntries(
    run.resources
      .filter((r) => r.custom && (r.name === node || r.name.startsWith(`${node}-`)))
      .map((r) => [`${r.type}::${r.name}`, bytes(r)]),
  );
}

let small: StackRun;
let large: StackRun;
beforeAll(async () => {
  small = await runFleet(generatedFleet(16));
  large = await runFleet(generatedFleet(254));
}, 300_000);

test("the inputs of all resources of a 254-node fleet total under 5 MB", () => {
  const total = large.resources.reduce((sum, r) => sum + bytes(r), 0);
  // The whole fleet is there: keys, first contact and push, hosts and records, over five per
  // node (nodes with the same public ports share their provider firewall).
  expect(large.resources.filter((r) => r.custom).length).toBeGreaterThan(5 * 254);
  expect(total).toBeLessThan(5_000_000);
});

test("no command carries its node's files: pushes name their bundle by digest", () => {
  const pushes = large.resources.filter(
    (r) => r.type === T.localCommand && /-(push|bootstrap)$/.test(r.name),
  );
  expect(pushes.length).toBeGreaterThan(254);
  for (const push of pushes) {
    const plan = parsePushPlan(push.inputs.environment[PUSH_PLAN_VARIABLE]);
    // The bundle is in the store under the digest the push names, and checks against it.
    const files = Object.values(loadBundle(plan.bundle)).filter((c) => c.length >= 64);
    expect(files.length).toBeGreaterThan(3);
    const inputs = JSON.stringify(push.inputs);
    for (const content of files) expect(inputs.includes(content)).toBe(false);
    // A changed bundle is a new push; first contact runs once per machine, whatever it carries.
    if (plan.mode === "push") expect(push.inputs.triggers).toContain(plan.bundle);
  }
});

test("a node's own inputs do not grow with the fleet, the hub's included", () => {
  // The hub's peer list is in its bundle, which the inputs name by digest only.
  for (let i = 1; i <= 16; i++) {
    const own = ownInputs(small, `n${i}`);
    expect(Object.keys(own).length).toBeGreaterThan(1);
    expect([`n${i}`, ownInputs(large, `n${i}`)]).toEqual([`n${i}`, own]);
  }
});

test("the critical path is as long at 254 nodes as at 16", () => {
  expect(large.resources.length).toBeGreaterThan(small.resources.length * 12);
  const depth = graphDepth(small.resources);
  expect(depth).toBeGreaterThan(3);
  expect(graphDepth(large.resources)).toBe(depth);
});
