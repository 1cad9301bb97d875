// Parallel by construction: independent nodes never wait on one another, so the longest chain
// of waiting resources is the same for 16 nodes and for 254 (scale.test.ts measures it).
import { validateFleet } from "../../core/fleet/validate";
import { generatedFleet } from "../../bench/fleet";
import { graphDepth } from "../helpers/graph";

test("generated fleets are valid and use every provider and role", () => {
  const fleet = validateFleet(generatedFleet(16));
  expect(new Set(fleet.nodes.map((n) => n.provider))).toEqual(
    new Set(["vultr", "aws", "existing"]),
  );
  expect(new Set(fleet.nodes.flatMap((n) => n.roles))).toEqual(
    new Set(["hub", "k3s-server", "k3s-agent", "vault", "ollama"]),
  );
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
