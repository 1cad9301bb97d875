// The order and shape of pushes: first contact on the public side (or the address given for a
// host behind NAT), once per machine; the push over the management path once every node had
// its first contact; each one step that is kept only when confirmed; the nodes on its path first.
import { parsePushPlan, type PushPlan } from "../../core/delivery/plan";
import { isSecretInput, unwrap, valueOf } from "../helpers/mocks";
import { named, runFleet, runStack, T, type StackRun } from "../helpers/program";
import type { Registered } from "../helpers/mocks";
import { loadStackFleet } from "../../core/fleet/load";
import { PROJECT_DIR } from "../helpers/stacks";

let prod: StackRun;
let clawd: StackRun;
beforeAll(async () => {
  prod = await runStack("prod");
  clawd = await runStack("clawd");
});

const cmd = (run: StackRun, name: string) => named(run, name, T.localCommand);
const planOf = (r: Registered): PushPlan =>
  parsePushPlan(unwrap(r.inputs.environment).CLAWD_MESH_PUSH as string);
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
    const plan = planOf(cmd(prod, `${node}-bootstrap`));
    expect([node, plan.mode, plan.apply.host, plan.apply.user]).toEqual([
      node,
      "bootstrap",
      nodes[node]!.publicIpv4,
      user,
    ]);
    expect(plan.apply.hostKey).toMatch(/^ssh-ed25519 AAAA/);
    expect(plan.apply.proxy).toBeUndefined();
    // Confirmed as the admin user: from here on only it may log in.
    expect([plan.confirm.host, plan.confirm.user]).toEqual([nodes[node]!.publicIpv4, "ops"]);
    expect(plan.windowSeconds).toBe(120);
  }
});

test("first contact happens once per machine: its trigger is the machine, its content ignored later", () => {
  const tokyo = cmd(prod, "tokyo-bootstrap");
  const instance = named(prod, "tokyo", T.vultrInstance);
  expect(unwrap(tokyo.inputs.triggers)).toEqual([`${instance.name}-id`]);
  const zurich = cmd(prod, "zurich-bootstrap");
  expect(unwrap(zurich.inputs.triggers)).toEqual(["existing:192.0.2.10"]);
});

test("the push waits for every node's first contact, and goes over the management path", () => {
  const bootstraps = prod.resources.filter((r) => r.name.endsWith("-bootstrap"));
  expect(bootstraps).toHaveLength(20);
  const tokyo = cmd(prod, "tokyo-push");
  for (const b of bootstraps) expect(tokyo.dependencies).toContain(b.urn);
  const plan = planOf(tokyo);
  // tokyo answers SSH on its mesh address only, reached through the entry node clawd.
  expect([plan.mode, plan.apply.host, plan.apply.user, plan.apply.proxy?.user]).toEqual([
    "push",
    "10.84.0.10",
    "ops",
    "ops",
  ]);
  // The confirmation goes the same way, over a connection of its own.
  expect(plan.confirm).toEqual(plan.apply);
});

test("a push re-runs when its bundle, its secrets or its machine changes", () => {
  const push = cmd(prod, "tokyo-push");
  const [bundle, secrets, machine] = unwrap(push.inputs.triggers) as string[];
  expect(bundle).toMatch(/^[0-9a-f]{64}$/);
  expect(secrets).toMatch(/^[0-9a-f]{64}$/);
  expect(machine).toBe("tokyo-id");
  expect(isSecretInput(push.inputs.stdin)).toBe(true);
});

test("a push waits for the pushes of the nodes its connection passes through", () => {
  // tokyo is reached by jumping from clawd, then across the mesh through the hub zurich:
  // both learn of it (a new key, a new address) before it is pushed through them.
  const tokyo = cmd(prod, "tokyo-push");
  expect(dependsOn(prod, tokyo, "clawd-push")).toBe(true);
  expect(dependsOn(prod, tokyo, "zurich-push")).toBe(true);
  expect(dependsOn(prod, tokyo, "seoul-push")).toBe(false);
  // The hub waits for the entry node only; the entry node, reached on its public side, for none.
  const hub = cmd(prod, "zurich-push");
  const pushes = (r: Registered) =>
    prod.resources.filter((x) => /-push$/.test(x.name) && dependsOn(prod, r, x.name));
  expect(pushes(hub).map((r) => r.name)).toEqual(["clawd-push"]);
  expect(pushes(cmd(prod, "clawd-push"))).toEqual([]);
});

test("a host behind NAT with no first-contact address is pushed over the mesh only", () => {
  expect(clawd.resources.some((r) => r.name === "nexus-bootstrap")).toBe(false);
  const plan = planOf(cmd(clawd, "nexus-push"));
  expect([plan.apply.host, plan.apply.proxy?.host]).toEqual(["10.0.0.1", "85.215.46.147"]);
});

test("a host behind NAT gets first contact at the address given for it", async () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const fleet = loadStackFleet(PROJECT_DIR, "clawd") as any;
  const nexus = fleet.nodes.find((n: { name: string }) => n.name === "nexus");
  nexus.firstContactAddress = "192.168.1.50:2222";
  const run = await runFleet(fleet);
  const plan = planOf(cmd(run, "nexus-bootstrap"));
  expect([plan.apply.host, plan.apply.port, plan.apply.user]).toEqual([
    "192.168.1.50",
    2222,
    "boss",
  ]);
  expect(cmd(run, "nexus-push").dependencies).toContain(cmd(run, "nexus-bootstrap").urn);
});

test("the rollout's ssh_config and known_hosts name only the hosts it dials", () => {
  const rollout = named(prod, "prod-vault-rollout-command", T.localCommand);
  const env = unwrap(rollout.inputs.environment) as Record<string, string>;
  const nodes = (
    loadStackFleet(PROJECT_DIR, "prod") as { nodes: { name: string; roles: string[] }[] }
  ).nodes;
  const vaults = nodes.filter((n) => n.roles.includes("vault")).map((n) => n.name);
  const config = env.CLAWD_MESH_SSH_CONFIG ?? "";
  const hosts = [...config.matchAll(/^Host (\S+)$/gm)].map((m) => m[1]);
  // The vault nodes, the entry node their ProxyJump names, and the defaults.
  const jumps = [...config.matchAll(/ProxyJump (\S+)/g)].map((m) => m[1] as string);
  const via = env.HEALTH_VIA ? [env.HEALTH_VIA] : [];
  expect(new Set(hosts)).toEqual(new Set([...vaults, ...jumps, ...via, "*"]));
  expect(hosts.length).toBeLessThan(nodes.length);
  const knownHosts = (env.CLAWD_MESH_KNOWN_HOSTS ?? "").trim().split("\n");
  expect(knownHosts.length).toBeLessThanOrEqual(2 * (hosts.length - 1));
});

test("the rollback window is a setting, checked before anything is declared", async () => {
  const short = await runStack("ollama-home", { "clawd-mesh:rollbackSeconds": "45" });
  expect(planOf(cmd(short, "ai-push")).windowSeconds).toBe(45);
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
    expect(rollout.dependencies).toContain(named(clavitor, `${node}-push`, T.localCommand).urn);
  }
  expect(unwrap(rollout.inputs.triggers)).toEqual([
    "https://downloads.clavitor.com/clavitor-linux-amd64",
    "0".repeat(64),
    ...order,
  ]);
});
