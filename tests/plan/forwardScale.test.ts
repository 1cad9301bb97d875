// A hub's forwarding as the fleet grows (issue 15): every member may reach every other, so a
// policy listed per pair of members grows with the square of the fleet. The hub's plan and its
// node.json hold set rules instead: as many rules at 254 nodes as at 16, a few set elements
// per member.
import { generatedFleet } from "../../bench/fleet";
import { validateFleet } from "../../core/fleet/validate";
import { placeholderDeployment } from "../../core/plan/deployment";
import type { NodeModel } from "../../core/plan/model";
import { planFleet } from "../../core/plan/plan";
import { renderNixos } from "../../core/render/nixos";

function hubOf(size: number): NodeModel {
  const fleet = validateFleet(generatedFleet(size));
  const hub = planFleet(fleet, placeholderDeployment(fleet)).nodes.find((n) =>
    n.roles.includes("hub"),
  );
  if (!hub) throw new Error("the generated fleet has no hub");
  return hub;
}

const elements = (hub: NodeModel) =>
  hub.firewall.meshForward.reduce((sum, r) => sum + r.from.length + (r.to?.length ?? 0), 0);
const nodeJson = (hub: NodeModel) => renderNixos(hub).get("node.json") ?? "";

const small = hubOf(16);
const medium = hubOf(64);
const large = hubOf(254);

test("the hub forwards with as many rules at 254 nodes as at 16", () => {
  expect(small.firewall.meshForward.length).toBeGreaterThan(2);
  expect(large.firewall.meshForward.length).toBe(small.firewall.meshForward.length);
});

test("the hub's forwarding grows by a few set elements per member", () => {
  expect(elements(large)).toBeGreaterThan(254);
  expect(elements(large)).toBeLessThan(8 * 254);
});

test("the hub's node.json grows no faster than the fleet, and lists no pairs", () => {
  expect(JSON.parse(nodeJson(large)).firewall).not.toHaveProperty("forward");
  expect(nodeJson(large).length / nodeJson(medium).length).toBeLessThan(254 / 64);
});
