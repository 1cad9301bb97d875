// The combined fleet in the lab, brought up by the program through the engine: 13 Vultr
// instances and an AWS one booted behind their provider firewalls, six existing hosts, first
// contact from the operator's network only, every push through the entry node.
import type { Lab } from "../../lab/lab";
import {
  counts,
  mismatches,
  probeMatrix,
  startLab,
  stopLab,
  up,
  NOTHING_CHANGED,
} from "../helpers/lab";

let lab: Lab;
let seconds = 0;
beforeAll(async () => {
  const started = Date.now();
  lab = await startLab("prod");
  seconds = (Date.now() - started) / 1000;
}, 1_200_000);
afterAll(() => stopLab());

test("20 nodes converge in one up, and the matrix matches the policy", async () => {
  console.log(
    `prod lab: 20 nodes created and converged through the engine in ${seconds.toFixed(1)} s`,
  );
  expect(lab.fleet().nodes).toHaveLength(20);
  const m = await probeMatrix(lab);
  expect(m.cells.length).toBe(2500);
  expect(mismatches(m)).toEqual([]);
}, 300_000);

test("a second up runs no command", async () => {
  const again = await up(lab);
  expect(counts(again)).toMatchObject(NOTHING_CHANGED);
}, 300_000);
