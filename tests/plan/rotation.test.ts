// The order of a WireGuard key rotation (core/plan/rotation.ts), on prod's hub-spoke mesh: who
// follows a rotated node, who keeps its previous key, and whose push waits for whose.
import { loadStackFleet } from "../../core/fleet/load";
import { validateFleet } from "../../core/fleet/validate";
import type { Fleet } from "../../core/fleet/fleet";
import {
  aheadFollowers,
  keptKeys,
  keyFollower,
  pushWaitsFor,
  rotationProblems,
} from "../../core/plan/rotation";
import type { Raw } from "../helpers/fleets";
import { PROJECT_DIR } from "../helpers/stacks";

/** prod with these nodes' key generations raised. */
function prod(generations: Record<string, number> = {}): Fleet {
  const raw = loadStackFleet(PROJECT_DIR, "prod") as Raw;
  for (const n of raw.nodes as Raw[]) {
    if (generations[n.name]) n.wireguardKeyGeneration = generations[n.name];
  }
  return validateFleet(raw);
}
const node = (fleet: Fleet, name: string) => fleet.nodes.find((n) => n.name === name)!;
const waits = (fleet: Fleet) =>
  Object.fromEntries(fleet.nodes.map((n) => [n.name, pushWaitsFor(fleet, n).sort()]));

test("nothing rotated: each push waits for its management path, and nobody follows or keeps", () => {
  const fleet = prod();
  for (const n of fleet.nodes) {
    expect([n.name, keyFollower(fleet, n), keptKeys(fleet, n)]).toEqual([n.name, undefined, []]);
  }
  // The hub is reached through the entry node clawd; the spokes through both.
  expect(waits(fleet).zurich).toEqual(["clawd"]);
  expect(waits(fleet).amsterdam).toEqual(["clawd", "zurich"]);
  expect(waits(fleet).clawd).toEqual([]);
});

test("the entry node rotated: the hub follows it, keeps its previous key, and goes first", () => {
  const fleet = prod({ clawd: 1 });
  expect(keyFollower(fleet, node(fleet, "clawd"))).toBe("zurich");
  expect(keptKeys(fleet, node(fleet, "zurich"))).toEqual(["clawd"]);
  expect(waits(fleet).zurich).toEqual([]);
  expect(waits(fleet).clawd).toEqual(["zurich"]);
  // The other spokes still wait for both, and keep nothing.
  expect(waits(fleet).amsterdam).toEqual(["clawd", "zurich"]);
  expect(keptKeys(fleet, node(fleet, "amsterdam"))).toEqual([]);
  expect(rotationProblems(fleet)).toEqual([]);
});

test("every key rotated: the hub leads, every other node follows it ahead and is followed by it", () => {
  const fleet = prod(Object.fromEntries(prod().nodes.map((n) => [n.name, 1])));
  const hub = node(fleet, "zurich");
  const others = fleet.nodes.filter((n) => n !== hub).map((n) => n.name);
  expect(aheadFollowers(fleet, hub)).toEqual([...others].sort());
  for (const n of others) expect([n, keyFollower(fleet, node(fleet, n))]).toEqual([n, "zurich"]);
  // It keeps only the key it is reached through: one follow process, whatever the fleet's size.
  expect(keptKeys(fleet, hub)).toEqual(["clawd"]);
  expect(waits(fleet).zurich).toEqual([]);
  for (const n of others) expect(waits(fleet)[n]).toContain("zurich");
  expect(rotationProblems(fleet)).toEqual([]);
});

test("a rotated k3s join token: agents' pushes wait for the server's, which takes it first", () => {
  const withAgent = (generation: number) => {
    const raw = loadStackFleet(PROJECT_DIR, "prod") as Raw;
    const tokyo = (raw.nodes as Raw[]).find((n) => n.name === "tokyo")!;
    tokyo.roles = [...tokyo.roles, "k3s-agent"];
    const server = (raw.nodes as Raw[]).find((n) => n.name === "openclaw")!;
    server.k3s = { ...server.k3s, flannelBackend: "vxlan", tokenGeneration: generation };
    return validateFleet(raw);
  };
  const before = withAgent(0);
  expect(waits(before).tokyo).not.toContain("openclaw");
  const after = withAgent(1);
  expect(waits(after).tokyo).toEqual([...(waits(before).tokyo ?? []), "openclaw"].sort());
  // The server waits for nothing new, and no other push changes its order.
  for (const n of after.nodes.filter((n) => n.name !== "tokyo")) {
    expect([n.name, waits(after)[n.name]]).toEqual([n.name, waits(before)[n.name]]);
  }
});

test("a rotated k3s join token never makes pushes wait in a loop: the hub as an agent of a server that waits for it goes first", () => {
  const raw = loadStackFleet(PROJECT_DIR, "prod") as Raw;
  const nodes = raw.nodes as Raw[];
  const named = (name: string) => nodes.find((n) => n.name === name)!;
  // plutos (public SSH) the k3s server, its WireGuard key rotated: the hub follows it, so its
  // push waits for the hub's; the hub a k3s agent.
  const k3s = named("openclaw").k3s;
  named("openclaw").roles = [];
  delete named("openclaw").k3s;
  named("plutos").roles = [...named("plutos").roles, "k3s-server"];
  named("plutos").k3s = { ...k3s, flannelBackend: "vxlan", tokenGeneration: 1 };
  named("plutos").wireguardKeyGeneration = 1;
  named("zurich").roles = [...named("zurich").roles, "k3s-agent"];
  const fleet = validateFleet(raw);
  expect(waits(fleet).plutos).toContain("zurich");
  expect(waits(fleet).zurich).not.toContain("plutos");
  // Another agent still waits for the server.
  named("tokyo").roles = [...named("tokyo").roles, "k3s-agent"];
  expect(waits(validateFleet(raw)).tokyo).toContain("plutos");
});
