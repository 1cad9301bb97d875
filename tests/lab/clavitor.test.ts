// Seed 001 in the lab, all 16 nodes, brought up by the program through the engine — 13 Vultr
// instances booted behind their firewall groups, 3 existing hosts: only 80 and 443 public, SSH
// only on 10.84.0.x. Then one vault host is replaced (a new region) and configured in the same up.
// Every node's OS runs systemd, so every host boots it, the new region's too.
import type { Lab } from "../../lab/lab";
import {
  changed,
  mismatches,
  probeMatrix,
  startLab,
  stopLab,
  systemdStates,
  up,
  watchHandover,
} from "../helpers/lab";

let lab: Lab;
let seconds = 0;
beforeAll(async () => {
  const started = Date.now();
  lab = await startLab("clavitor", { hosts: "systemd" });
  seconds = (Date.now() - started) / 1000;
}, 900_000);
afterAll(() => stopLab());

test("16 nodes converge through the program's own resources, and the matrix matches the policy", async () => {
  expect(lab.fleet().nodes).toHaveLength(16);
  console.log(
    `clavitor lab: 16 nodes on systemd hosts created and converged through the engine in ${seconds.toFixed(1)} s`,
  );
  expect(systemdStates(lab)).toEqual(lab.fleet().nodes.map((n) => [n.name, "systemd", "running"]));
  const m = await probeMatrix(lab);
  expect(m.cells.length).toBe(1616);
  expect(mismatches(m)).toEqual([]);
}, 300_000);

test("from the internet, every vault node shows 80 and 443 and nothing else", async () => {
  const m = await probeMatrix(lab);
  for (const node of lab.fleet().nodes) {
    const open = m.cells
      .filter((c) => c.from === "internet" && c.to === node.name && c.actual)
      .map((c) => c.check);
    expect([node.name, open]).toEqual([node.name, ["tcp/80", "tcp/443"]]);
  }
}, 120_000);

test("sshd listens on the node's 10.84.0.x address only", () => {
  for (const node of lab.fleet().nodes) {
    const listening = lab
      .nodeHost(node.name)!
      .run("ss", ["-Htln"])
      .split("\n")
      .filter(Boolean)
      .map((l) => l.trim().split(/\s+/)[3])
      .filter((address) => address !== "0.0.0.0:80" && !address?.endsWith(":80"));
    expect([node.name, listening]).toEqual([node.name, [`${node.meshIp}:22`]]);
    expect(node.meshIp).toMatch(/^10\.84\.0\.\d+$/);
  }
});

test("a vault node moved to another region with allowReplace: a new server, configured in the same up", async () => {
  const old = lab.nodeHost("newjersey")!;
  const before = old.netns;
  const facts = lab.facts().get("newjersey")!;
  const moved = structuredClone(lab.raw());
  const node = moved.nodes.find((n: { name: string }) => n.name === "newjersey");
  Object.assign(node, { region: "ord", allowReplace: true });
  lab.useFleet(moved);
  const started = Date.now();
  const watch = watchHandover(old, lab.nodeHost("zurich")!, facts);
  // Stopped however the up ends: a failed one must not leave the watch polling.
  const run = await up(lab).finally(() => watch.stop());
  const handover = await watch.stop();
  const seconds = (Date.now() - started) / 1000;
  // The new machine takes the node's key and address: the old one left the mesh before the
  // hub first heard the key from elsewhere, and the hub never heard it from the old one again.
  expect(handover.oldLeftAt).toBeDefined();
  expect(handover.newHeardAt).toBeDefined();
  expect(handover.oldLeftAt!).toBeLessThan(handover.newHeardAt!);
  expect(handover.heardOldAgain).toBe(false);
  const replaced = changed(run)
    .filter((s) => s.op === "+-")
    .map((s) => s.name);
  expect(replaced).toContain("newjersey");
  // First contact follows the new instance, then its push; the node keeps its WireGuard key.
  const pushed = replaced.filter((n) => n.endsWith("-push"));
  expect(pushed).toContain("newjersey-push");
  expect(lab.nodeHost("newjersey")!.netns).not.toBe(before);
  expect(mismatches(await probeMatrix(lab))).toEqual([]);
  console.log(
    `clavitor lab: newjersey replaced and configured in one up in ${seconds.toFixed(1)} s; the old machine left the mesh ${((handover.newHeardAt! - handover.oldLeftAt!) / 1000).toFixed(1)} s before the hub heard the new one`,
  );
}, 600_000);
