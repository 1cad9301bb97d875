// Seed 002 in the lab: a client reaches 11434 on the AI host and nothing else; removing the
// client's peer from the stack and pushing revokes it.
import type { Lab } from "../../lab/lab";
import { cell, mismatches, probeMatrix, startLab, stopLab } from "../helpers/lab";

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

test("removing the laptop's peer and pushing revokes it; the phone keeps its access", async () => {
  lab.replan((fleet) => ({ ...fleet, peers: fleet.peers.filter((p) => p.name !== "laptop") }));
  const pushed = await lab.push("ai", { bootstrap: false, alias: "ai", confirmAlias: "ai" });
  expect(pushed.ok).toBe(true);
  const m = await probeMatrix(lab);
  expect(mismatches(m)).toEqual([]);
  expect(cell(m, "laptop", "ai", "tcp/11434")).toBe(false);
  expect(cell(m, "phone", "ai", "tcp/11434")).toBe(true);
  const peers = lab.nodes.get("ai")!.run("wg", ["show", "wg0", "peers"]);
  const laptop = lab.lab.peers.find((p) => p.spec.name === "laptop")!;
  expect(peers).not.toContain(laptop.wg.publicKey);
}, 120_000);
