// The lab at 64 nodes (issue 15): a generated hub-and-spoke fleet of every provider and role
// converges, and every path the probes try agrees with the policy.
import { generatedFleet } from "../../bench/fleet";
import { mismatches, probeMatrix, startLab, stopLab } from "../helpers/lab";

afterAll(stopLab);

test("a 64-node generated fleet converges with no reachability mismatch", async () => {
  const lab = await startLab("prod", { fleet: generatedFleet(64) });
  const matrix = await probeMatrix(lab);
  expect(matrix.cells.length).toBeGreaterThan(20_000);
  expect(mismatches(matrix)).toEqual([]);
}, 1_200_000);
