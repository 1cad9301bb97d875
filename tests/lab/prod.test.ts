// The combined fleet in the lab, brought up by the program through the engine: 13 Vultr
// instances and an AWS one booted behind their provider firewalls, six existing hosts, first
// contact from the operator's network only, every push through the entry node. Every node's OS
// runs systemd, so every host boots it, as `npm run lab -- --stack prod` does: 20 systemd
// instances on one machine, the production path for every push.
import type { Lab } from "../../lab/lab";
import {
  counts,
  mismatches,
  probeMatrix,
  startLab,
  stopLab,
  systemdStates,
  up,
  NOTHING_CHANGED,
} from "../helpers/lab";

let lab: Lab;
let seconds = 0;
beforeAll(async () => {
  const started = Date.now();
  lab = await startLab("prod", { hosts: "systemd" });
  seconds = (Date.now() - started) / 1000;
}, 1_200_000);
afterAll(() => stopLab());

test("20 nodes converge in one up, and the matrix matches the policy", async () => {
  console.log(
    `prod lab: 20 nodes on systemd hosts created and converged through the engine in ${seconds.toFixed(1)} s`,
  );
  expect(lab.fleet().nodes).toHaveLength(20);
  expect(systemdStates(lab)).toEqual(lab.fleet().nodes.map((n) => [n.name, "systemd", "running"]));
  const m = await probeMatrix(lab);
  expect(m.cells.length).toBe(2500);
  expect(mismatches(m)).toEqual([]);
}, 300_000);

test("a second up runs no command", async () => {
  const again = await up(lab);
  expect(counts(again)).toMatchObject(NOTHING_CHANGED);
}, 300_000);
