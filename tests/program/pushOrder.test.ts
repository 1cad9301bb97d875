// The order and shape of pushes: first contact on the public side, confirmed; the cut-over
// over the management path once every node had its first contact; each push kept only by a
// confirmation of its own; the hub last.
import { isSecretInput, unwrap, valueOf } from "../helpers/mocks";
import { named, runStack, T, type StackRun } from "../helpers/program";
import type { Registered } from "../helpers/mocks";

let prod: StackRun;
let clawd: StackRun;
beforeAll(async () => {
  prod = await runStack("prod");
  clawd = await runStack("clawd");
});

const cmd = (run: StackRun, name: string) => named(run, name, T.command);
const connection = (r: Registered) => unwrap(r.inputs.connection);
const dependsOn = (run: StackRun, r: Registered, name: string) =>
  r.dependencies.includes(cmd(run, name).urn);

test("first contact: the public address, the image's account, the pinned host key", async () => {
  const nodes = await valueOf(prod.result.nodes);
  const cases: [string, string][] = [
    ["tokyo", "root"], // Vultr
    ["openclaw", "root"], // NixOS on AWS
    ["zurich", "ops"], // an existing host: its admin account is already there
  ];
  for (const [node, user] of cases) {
    const c = connection(cmd(prod, `${node}-bootstrap`));
    expect([node, c.host, c.user]).toEqual([node, nodes[node]!.publicIpv4, user]);
    expect(c.hostKey).toMatch(/^ssh-ed25519 AAAA/);
    expect(cmd(prod, `${node}-bootstrap`).inputs.create).toContain(
      "apply --bootstrap --window 120",
    );
    const confirm = connection(cmd(prod, `${node}-bootstrap-confirm`));
    expect([confirm.host, confirm.user]).toEqual([nodes[node]!.publicIpv4, "ops"]);
    expect(cmd(prod, `${node}-bootstrap-confirm`).inputs.create).toContain(
      "confirm 1795430000-4242",
    );
  }
});

test("the cut-over waits for every node's first contact, and goes over the management path", () => {
  const bootstraps = prod.resources.filter((r) => r.name.endsWith("-bootstrap-confirm"));
  expect(bootstraps).toHaveLength(20);
  const tokyo = cmd(prod, "tokyo-push");
  for (const b of bootstraps) expect(tokyo.dependencies).toContain(b.urn);
  const c = connection(tokyo);
  // tokyo answers SSH on its mesh address only, reached through the entry node clawd.
  expect([c.host, c.user, c.proxy?.user]).toEqual(["10.84.0.10", "ops", "ops"]);
  expect(tokyo.inputs.create).toContain("apply --window 120");
  expect(tokyo.inputs.create).not.toContain("--bootstrap");
});

test("each push is kept by a confirmation of its own, with the token apply printed", () => {
  const confirm = cmd(prod, "tokyo-confirm");
  expect(dependsOn(prod, confirm, "tokyo-push")).toBe(true);
  expect(confirm.inputs.create).toContain("confirm 1795430000-4242");
  expect(confirm.inputs.stdin).toBeUndefined();
  expect(unwrap(confirm.inputs.triggers)).toEqual(unwrap(cmd(prod, "tokyo-push").inputs.triggers));
});

test("the hub's push waits for every other node's confirmation", () => {
  const hub = cmd(prod, "zurich-push");
  for (const r of prod.resources.filter(
    (x) => /-confirm$/.test(x.name) && !x.name.includes("bootstrap"),
  )) {
    if (r.name === "zurich-confirm") continue;
    expect([r.name, hub.dependencies.includes(r.urn)]).toEqual([r.name, true]);
  }
});

test("a host behind NAT has no first contact over a public address", () => {
  expect(clawd.resources.some((r) => r.name === "nexus-bootstrap")).toBe(false);
  const c = connection(cmd(clawd, "nexus-push"));
  expect([c.host, c.proxy?.host]).toEqual(["10.0.0.1", "85.215.46.147"]);
});

test("the rollback window is a setting, checked before anything is declared", async () => {
  const short = await runStack("ollama-home", { "clawd-mesh:rollbackSeconds": "45" });
  expect(cmd(short, "ai-push").inputs.create).toContain("--window 45");
  await expect(runStack("ollama-home", { "clawd-mesh:rollbackSeconds": "5" })).rejects.toThrow(
    /clawd-mesh:rollbackSeconds = 5: .* Fix: use a whole number from 20 to 3600/,
  );
});

test("a vault binary goes out one node at a time, the hub last, after every push is kept", async () => {
  const clavitor = await runStack("clavitor");
  const rollout = named(clavitor, "clavitor-vault-rollout-command", T.localCommand);
  const script = rollout.inputs.create as string;
  const order = [...script.matchAll(/ ([a-z]+)=http:\/\/10\.84\.0\.\d+\/health/g)].map((m) => m[1]);
  expect(order).toHaveLength(16);
  expect(order.at(-1)).toBe("zurich");
  expect(order.slice(0, -1)).toEqual([...order.slice(0, -1)].sort());
  expect(rollout.inputs.environment.CLAWD_MESH_SHA256).toBe("0".repeat(64));
  expect(rollout.inputs.environment.CLAWD_MESH_SSH_CONFIG).toContain("StrictHostKeyChecking yes");
  expect(rollout.inputs.environment.CLAWD_MESH_SSH_CONFIG).not.toContain("accept-new");
  expect(rollout.inputs.environment.CLAWD_MESH_KNOWN_HOSTS).toMatch(
    /^10\.84\.0\.\d+ ssh-ed25519 /m,
  );
  // The operator's key is on stdin and secret; nothing secret sits in the environment.
  expect(isSecretInput(rollout.inputs.stdin)).toBe(true);
  expect(JSON.stringify(rollout.inputs.environment)).not.toContain("PRIVATE KEY");
  for (const node of order) {
    expect(rollout.dependencies).toContain(named(clavitor, `${node}-confirm`, T.command).urn);
  }
  expect(unwrap(rollout.inputs.triggers)).toEqual([
    "https://downloads.clavitor.com/clavitor-linux-amd64",
    "0".repeat(64),
    ...order,
  ]);
});
