// A change to one node re-pushes that node and, in hub-spoke, the hub only when its peer entry
// for the node changed. A no-op run re-pushes nothing.
import { loadStackFleet } from "../../core/fleet/load";
import { toNixBase32 } from "../../core/crypto/nixHash";
import type { Raw } from "../helpers/fleets";
import { rotated, unwrap, valueOf } from "../helpers/mocks";
import { byType, named, runFleet, T, type StackRun } from "../helpers/program";
import { PROJECT_DIR } from "../helpers/stacks";

function triggers(run: StackRun): Map<string, string> {
  return new Map(
    byType(run, T.localCommand)
      .filter((c) => c.name.endsWith("-push"))
      .map((c) => [c.name.replace(/-push$/, ""), JSON.stringify(unwrap(c.inputs.triggers))]),
  );
}

// The unchanged stack's run, once per stack: each test compares its edit against it.
const baseRuns = new Map<string, Promise<Map<string, string>>>();
function baseTriggers(stack: string, base: Raw): Promise<Map<string, string>> {
  if (!baseRuns.has(stack)) baseRuns.set(stack, runFleet(base).then(triggers));
  return baseRuns.get(stack) as Promise<Map<string, string>>;
}

/** The pushes whose triggers differ between two runs' triggers, by name. */
const differ = (before: Map<string, string>, after: Map<string, string>): string[] =>
  [...after]
    .filter(([name, t]) => before.get(name) !== t)
    .map(([name]) => name)
    .sort();

async function changed(
  stack: string,
  mutate: (f: Raw) => void,
  rotate: string[] = [],
): Promise<string[]> {
  const base = loadStackFleet(PROJECT_DIR, stack) as Raw;
  const before = await baseTriggers(stack, base);
  const edited = structuredClone(base);
  mutate(edited);
  rotate.forEach((r) => rotated.add(r));
  try {
    return differ(before, triggers(await runFleet(edited)));
  } finally {
    rotated.clear();
  }
}

const node = (f: Raw, name: string) => f.nodes.find((n: Raw) => n.name === name);

/** A node's push Command. */
const push = (run: StackRun, name: string) => named(run, `${name}-push`, T.localCommand);

/** Every resource of a type, with its inputs, as one string to compare between runs. */
const inputsOf = (run: StackRun, type: string) =>
  JSON.stringify(byType(run, type).map((r) => [r.name, unwrap(r.inputs)]));

/** A push's plan, as cli/push.ts reads it. */
const planOf = (run: StackRun, name: string) =>
  JSON.parse(
    (unwrap(push(run, name).inputs.environment) as Record<string, string>)
      .CLAWD_MESH_PUSH as string,
  );

test("a run with nothing changed re-pushes nothing", async () => {
  expect(await changed("clavitor", () => undefined)).toEqual([]);
});

test("hub-spoke: a spoke's own change re-pushes that spoke only", async () => {
  // The vault settings are shared through a YAML anchor: give tokyo a copy of its own.
  const bigger = (f: Raw) =>
    (node(f, "tokyo").vault = { ...node(f, "tokyo").vault, memoryMax: "512M" });
  expect(await changed("clavitor", bigger)).toEqual(["tokyo"]);
});

test("hub-spoke: a spoke's new public port re-pushes it and the hub, which forwards to it", async () => {
  expect(await changed("clavitor", (f) => (node(f, "tokyo").publicTcpPorts = [8443]))).toEqual([
    "tokyo",
    "zurich",
  ]);
});

test("hub-spoke: a spoke's new WireGuard key re-pushes the spoke and the hub, no other spoke", async () => {
  expect(await changed("clavitor", () => undefined, ["tokyo-wg-key"])).toEqual(["tokyo", "zurich"]);
});

test("hub-spoke: a spoke's rotated key (its generation raised) re-pushes it and the hub, no other spoke, and replaces no resource", async () => {
  const rotate = (f: Raw) => (node(f, "tokyo").wireguardKeyGeneration = 1);
  expect(await changed("clavitor", rotate)).toEqual(["tokyo", "zurich"]);
  const base = loadStackFleet(PROJECT_DIR, "clavitor") as Raw;
  const edited = structuredClone(base);
  rotate(edited);
  const [before, after] = [await runFleet(base), await runFleet(edited)];
  // The key is derived from the same random seed: nothing random is drawn anew.
  expect(inputsOf(after, T.bytes)).toBe(inputsOf(before, T.bytes));
  // Tokyo's push has the hub follow it from the key it had to the new one; no other push.
  const keyOf = async (run: StackRun) =>
    ((await valueOf(run.result.nodes)) as Record<string, { wgPublicKey: string }>).tokyo
      ?.wgPublicKey;
  expect(planOf(after, "tokyo").follows).toHaveLength(1);
  const follow = planOf(after, "tokyo").follows[0];
  expect(follow).toMatchObject({
    node: "zurich",
    address: node(base, "tokyo").meshIp ?? expect.any(String),
    ahead: false,
  });
  expect(follow.previousKey).toBe(await keyOf(before));
  expect(follow.key).toBe(await keyOf(after));
  expect(follow.key).not.toBe(follow.previousKey);
  expect(planOf(after, "seoul")).not.toHaveProperty("follows");
});

test("hub-spoke: the hub's rotated key re-pushes every node; the hub goes first, and every other node follows it ahead", async () => {
  const rotate = (f: Raw) => (node(f, "zurich").wireguardKeyGeneration = 1);
  const base = loadStackFleet(PROJECT_DIR, "prod") as Raw;
  const all: string[] = base.nodes.map((n: Raw) => n.name as string).sort();
  expect(await changed("prod", rotate)).toEqual(all);
  const edited = structuredClone(base);
  rotate(edited);
  const [before, after] = [await runFleet(base), await runFleet(edited)];
  const keyOf = async (run: StackRun) =>
    ((await valueOf(run.result.nodes)) as Record<string, { wgPublicKey: string }>).zurich
      ?.wgPublicKey;
  const follows = planOf(after, "zurich").follows as {
    node: string;
    route: { host: string; proxy?: { host: string } };
  }[];
  expect(follows.map((f) => f.node)).toEqual(all.filter((n) => n !== "zurich"));
  for (const f of follows) {
    expect(f).toMatchObject({
      address: node(base, "zurich").meshIp ?? expect.any(String),
      key: await keyOf(after),
      previousKey: await keyOf(before),
      ahead: true,
    });
  }
  // Each follower reached the way it is managed: clawd (the entry) and plutos on their public
  // addresses, the others through clawd, over the hub that still holds its previous key.
  const clawd = follows.find((f) => f.node === "clawd");
  expect(clawd?.route.proxy).toBeUndefined();
  const amsterdam = follows.find((f) => f.node === "amsterdam");
  expect(amsterdam?.route.proxy?.host).toBe(clawd?.route.host);
  for (const n of all.filter((n) => n !== "zurich")) {
    expect(planOf(after, n)).not.toHaveProperty("follows");
  }
  // The hub's push waits for no other node's; every other push waits for the hub's, the entry
  // node's too (it is otherwise pushed before the hub it reaches the spokes through).
  const pushUrns = new Set(all.map((n) => push(after, n).urn));
  expect(push(after, "zurich").dependencies.filter((d) => pushUrns.has(d))).toEqual([]);
  for (const n of all.filter((n) => n !== "zurich")) {
    expect([n, push(after, n).dependencies]).toEqual([
      n,
      expect.arrayContaining([push(after, "zurich").urn]),
    ]);
  }
  expect(push(before, "zurich").dependencies).toContain(push(before, "clawd").urn);
});

test("hub-spoke: the entry node's rotated key re-pushes it and the hub; the hub goes first and keeps its previous key, then has it follow", async () => {
  const rotate = (f: Raw) => (node(f, "clawd").wireguardKeyGeneration = 1);
  expect(await changed("prod", rotate)).toEqual(["clawd", "zurich"]);
  const base = loadStackFleet(PROJECT_DIR, "prod") as Raw;
  const edited = structuredClone(base);
  rotate(edited);
  const [before, after] = [await runFleet(base), await runFleet(edited)];
  const keyOf = async (run: StackRun) =>
    ((await valueOf(run.result.nodes)) as Record<string, { wgPublicKey: string }>).clawd
      ?.wgPublicKey;
  const [previousKey, key] = [await keyOf(before), await keyOf(after)];
  expect(key).not.toBe(previousKey);
  // clawd's mesh address, as the program allocated it (the stack file names none).
  const address = planOf(after, "clawd").follows?.[0]?.address as string;
  expect(address).toMatch(/^10\.84\.0\.\d+$/);
  // The hub is pushed through clawd, before it: from its switch it keeps clawd's previous key.
  expect(planOf(after, "zurich").keeps).toEqual([{ address, key, previousKey }]);
  expect(planOf(after, "zurich")).not.toHaveProperty("follows");
  expect(planOf(before, "zurich")).not.toHaveProperty("keeps");
  // clawd's own push has the hub follow it to the new key, as a spoke's does.
  expect(planOf(after, "clawd").follows).toEqual([
    expect.objectContaining({ node: "zurich", address, key, previousKey, ahead: false }),
  ]);
  // The order turns round: the hub no longer waits for clawd; clawd waits for the hub.
  expect(push(before, "zurich").dependencies).toContain(push(before, "clawd").urn);
  expect(push(after, "zurich").dependencies).not.toContain(push(after, "clawd").urn);
  expect(push(after, "clawd").dependencies).toContain(push(after, "zurich").urn);
});

test("full mesh: the entry node's rotated key re-pushes every node; it goes first, and every other node follows it ahead", async () => {
  const rotate = (f: Raw) => (node(f, "clawd").wireguardKeyGeneration = 1);
  const base = loadStackFleet(PROJECT_DIR, "clawd") as Raw;
  const all: string[] = base.nodes.map((n: Raw) => n.name as string).sort();
  expect(await changed("clawd", rotate)).toEqual(all);
  const edited = structuredClone(base);
  rotate(edited);
  const after = await runFleet(edited);
  const others = all.filter((n) => n !== "clawd");
  const follows = planOf(after, "clawd").follows as { node: string; ahead: boolean }[];
  expect(follows.map((f) => [f.node, f.ahead])).toEqual(others.map((n) => [n, true]));
  for (const n of others) expect(planOf(after, n)).not.toHaveProperty("follows");
  // plutos, managed on its public address, waits for the entry node's push too: it names the
  // new key, which only the entry node's switch makes good.
  for (const n of others) {
    expect([n, push(after, n).dependencies]).toEqual([
      n,
      expect.arrayContaining([push(after, "clawd").urn]),
    ]);
  }
});

test("k3s: a rotated join token re-pushes the server and its agents only; the agents after the server, nothing random drawn anew", async () => {
  // prod's k3s server with tokyo as an agent, before and after the token's generation is raised.
  const cluster = (generation: number) => (f: Raw) => {
    node(f, "tokyo").roles = [...node(f, "tokyo").roles, "k3s-agent"];
    node(f, "openclaw").k3s = {
      ...node(f, "openclaw").k3s,
      flannelBackend: "vxlan",
      ...(generation && { tokenGeneration: generation }),
    };
  };
  const base = loadStackFleet(PROJECT_DIR, "prod") as Raw;
  const [withAgent, rotated] = [structuredClone(base), structuredClone(base)];
  cluster(0)(withAgent);
  cluster(1)(rotated);
  const [before, after] = [await runFleet(withAgent), await runFleet(rotated)];
  expect(differ(triggers(before), triggers(after))).toEqual(["openclaw", "tokyo"]);
  expect(inputsOf(after, T.password)).toBe(inputsOf(before, T.password));
  // Both members carry the same token, a new one, on stdin.
  const token = (run: StackRun, name: string) =>
    JSON.parse(unwrap(push(run, name).inputs.stdin) as string).files["k3s-token"] as string;
  expect(token(after, "tokyo")).toBe(token(after, "openclaw"));
  expect(token(after, "openclaw")).not.toBe(token(before, "openclaw"));
  expect(token(after, "openclaw")).toMatch(/^[0-9a-f]{64}\n$/);
  expect(push(before, "tokyo").dependencies).not.toContain(push(before, "openclaw").urn);
  expect(push(after, "tokyo").dependencies).toContain(push(after, "openclaw").urn);
});

test("a node's new mesh address reaches every firewall that lets it ping", async () => {
  // Nodes may always ping each other, so each firewall names every node's address.
  const all = (loadStackFleet(PROJECT_DIR, "clavitor") as Raw).nodes.map((n: Raw) => n.name);
  expect(await changed("clavitor", (f) => (node(f, "tokyo").id = 60))).toEqual(all.sort());
});

test("hub-spoke: what the hub forwards to a spoke is part of the hub's bundle", async () => {
  const grant = (f: Raw) =>
    (f.access ??= []).push({ from: ["group:operators"], to: ["node:seoul"], tcp: [8443] });
  expect(await changed("clavitor", grant)).toEqual(["seoul", "zurich"]);
});

test("full mesh: one node's own change re-pushes that node only", async () => {
  expect(await changed("clawd", (f) => (node(f, "brutus").publicTcpPorts = [8080]))).toEqual([
    "brutus",
  ]);
});

test("a new nixpkgs pin re-pushes every NixOS node and no other", async () => {
  const fleet = loadStackFleet(PROJECT_DIR, "prod") as Raw;
  const nixos = fleet.nodes.filter((n: Raw) => n.os === "nixos").map((n: Raw) => n.name);
  expect(nixos.length).toBeLessThan(fleet.nodes.length); // prod has Ubuntu nodes too
  const bump = (f: Raw) =>
    (f.nixpkgs = {
      ...f.nixpkgs,
      rev: "fedcba9876543210fedcba9876543210fedcba98",
      sha256: toNixBase32(new Uint8Array(32).fill(7)),
    });
  expect(await changed("prod", bump)).toEqual(nixos.sort());
});
