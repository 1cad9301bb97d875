// Seed 002 in the lab: a client reaches 11434 on the AI host and nothing else; removing the
// client's peer from the stack and running up again revokes it.
import type { Lab } from "../../lab/lab";
import { cell, counts, mismatches, probeMatrix, startLab, stopLab, up } from "../helpers/lab";

let lab: Lab;
beforeAll(async () => {
  lab = await startLab("ollama-home");
}, 300_000);
afterAll(() => stopLab());

const openFrom = async (source: string) =>
  (await probeMatrix(lab)).cells.filter((c) => c.from === source && c.actual).map((c) => c.check);

test("a client peer reaches 11434 on the AI host and nothing else", async () => {
  expect(mismatches(await probeMatrix(lab))).toEqual([]);
  expect(await openFrom("laptop")).toEqual(["tcp/11434"]);
  expect(await openFrom("phone")).toEqual(["tcp/11434"]);
  expect(await openFrom("admin")).toEqual(["tcp/22", "ping"]);
  expect(await openFrom("internet")).toEqual([]);
}, 120_000);

test("removing the laptop's peer and running up revokes it; the phone keeps its access", async () => {
  const fleet = lab.raw();
  lab.useFleet({
    ...fleet,
    peers: fleet.peers.filter((p: { name: string }) => p.name !== "laptop"),
  });
  const run = await up(lab);
  // One push, ai's: nothing else changes.
  expect(counts(run)).toMatchObject({ replaced: 1, created: 0, deleted: 0, commands: 1 });
  const m = await probeMatrix(lab);
  expect(mismatches(m)).toEqual([]);
  expect(cell(m, "laptop", "ai", "tcp/11434")).toBe(false);
  expect(cell(m, "phone", "ai", "tcp/11434")).toBe(true);
  const peers = lab.nodeHost("ai")!.run("wg", ["show", "wg0", "peers"]);
  expect(peers).not.toContain(lab.site.assignments.peers.laptop!.wg.publicKey);
}, 300_000);
