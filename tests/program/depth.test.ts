// Parallel by construction: independent nodes never wait on one another, so the longest chain
// of waiting resources is the same for 16 nodes and for 128.
import { validateFleet } from "../../core/fleet/validate";
import { generatedFleet } from "../helpers/generated";
import { graphDepth } from "../helpers/graph";
import { runFleet } from "../helpers/program";

test("generated fleets are valid and use every provider and role", () => {
  const fleet = validateFleet(generatedFleet(16));
  expect(new Set(fleet.nodes.map((n) => n.provider))).toEqual(
    new Set(["vultr", "aws", "existing"]),
  );
  expect(new Set(fleet.nodes.flatMap((n) => n.roles))).toEqual(
    new Set(["hub", "k3s-server", "k3s-agent", "vault", "ollama"]),
  );
});

test("the graph is as deep for 128 nodes as for 16", async () => {
  const small = await runFleet(generatedFleet(16));
  const large = await runFleet(generatedFleet(128));
  expect(large.resources.length).toBeGreaterThan(small.resources.length * 6);
  const depth16 = graphDepth(small.resources);
  const depth128 = graphDepth(large.resources);
  expect(depth16).toBeGreaterThan(3);
  expect(depth128).toBe(depth16);
});

test("the depth measure sees a chain: serialising the pushes would make it grow", () => {
  // A graph where each push waits on the previous one, as a sequential rollout would.
  const chain = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      urn: `p${i}`,
      type: "t",
      name: `p${i}`,
      parent: "",
      custom: true,
      dependencies: i > 0 ? [`p${i - 1}`] : [],
      ignoreChanges: [],
      inputs: {},
    }));
  expect(graphDepth(chain(16))).toBe(16);
  expect(graphDepth(chain(128))).toBe(128);
});
