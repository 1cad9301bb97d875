// Seed 001 in the lab, all 16 nodes: only 80 and 443 public, SSH only on 10.84.0.x.
import type { Lab } from "../../lab/lab";
import { mismatches, probeMatrix, startLab, stopLab } from "../helpers/lab";

let lab: Lab;
let seconds = 0;
beforeAll(async () => {
  const started = Date.now();
  lab = await startLab("clavitor");
  seconds = (Date.now() - started) / 1000;
}, 600_000);
afterAll(() => stopLab());

test("16 nodes converge, and the matrix matches the policy", async () => {
  expect(lab.lab.nodes).toHaveLength(16);
  console.log(`clavitor lab: 16 nodes up, bootstrapped and cut over in ${seconds.toFixed(1)} s`);
  const m = await probeMatrix(lab);
  expect(m.cells.length).toBe(1616);
  expect(mismatches(m)).toEqual([]);
}, 300_000);

test("from the internet, every vault node shows 80 and 443 and nothing else", async () => {
  const m = await probeMatrix(lab);
  for (const node of lab.lab.nodes) {
    const open = m.cells
      .filter((c) => c.from === "internet" && c.to === node.spec.name && c.actual)
      .map((c) => c.check);
    expect([node.spec.name, open]).toEqual([node.spec.name, ["tcp/80", "tcp/443"]]);
  }
}, 120_000);

test("sshd listens on the node's 10.84.0.x address only", () => {
  for (const node of lab.lab.nodes) {
    const listening = lab.nodes
      .get(node.spec.name)!
      .run("ss", ["-Htln"])
      .split("\n")
      .filter(Boolean)
      .map((l) => l.trim().split(/\s+/)[3]);
    expect([node.spec.name, listening]).toEqual([node.spec.name, [`${node.spec.meshIp}:22`]]);
    expect(node.spec.meshIp).toMatch(/^10\.84\.0\.\d+$/);
  }
});
