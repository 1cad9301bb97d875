// Day-two changes through the lab's engine with stand-in clouds: a node added, renamed or
// replaced, its public ports changed, a new operator key — what the next `up` creates, replaces
// and runs, and in which order. A small Clavitor fleet: the hub zurich (an existing host) and
// Vultr vault nodes.
import { EngineWorld, engineFleet } from "../helpers/engineWorld";
import type { StepRecord } from "../../lab/engine/deployment";

jest.setTimeout(180_000);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Raw = Record<string, any>;

/** clavitor with the named nodes only, first contact allowed from the operator's machine. */
const clavitor = (names: string[]): Raw => engineFleet("clavitor", names);

const nameOf = (s: StepRecord) => s.urn.split("::").pop() as string;
/** The steps that create, replace or delete something real: not a command, not a component. */
const machinery = (steps: readonly StepRecord[]) =>
  steps
    .filter((s) => ["create", "replace", "delete"].includes(s.op))
    .filter((s) => !s.type.startsWith("command:") && !s.type.startsWith("clawd-mesh:"))
    .map((s) => `${s.op} ${nameOf(s)}`);

async function converged(fleet: Raw): Promise<EngineWorld> {
  const w = new EngineWorld({ fleet });
  const first = await w.run();
  expect(first.errors).toEqual([]);
  return w;
}

test("a new spoke converges in one up: the hub learns it before it is pushed", async () => {
  const w = await converged(clavitor(["zurich", "tokyo"]));
  w.setFleet(clavitor(["zurich", "tokyo", "seoul"]));
  const second = await w.run();
  expect(second.errors).toEqual([]);
  const pushed = second.ran.filter((r) => r.kind === "push").map((r) => r.host);
  // zurich (10.84.0.1) learns seoul's key first; seoul (10.84.0.11) is then pushed through
  // it; tokyo too, as its firewall now lets seoul's ping in. Nothing is pushed twice.
  expect(pushed[0]).toBe("10.84.0.1");
  expect([...pushed].sort()).toEqual(["10.84.0.1", "10.84.0.10", "10.84.0.11"]);
  expect(second.ran.filter((r) => r.kind === "bootstrap")).toHaveLength(1);
});

test("a renamed node keeps its server and keys: only its pushes run", async () => {
  const w = await converged(clavitor(["zurich", "tokyo"]));
  const renamed = clavitor(["zurich", "tokyo"]);
  const tokyo = renamed.nodes.find((n: Raw) => n.name === "tokyo");
  Object.assign(tokyo, { name: "tokio", formerName: "tokyo" });
  w.setFleet(renamed);
  const second = await w.run();
  expect(second.errors).toEqual([]);
  expect(machinery(second.steps)).toEqual([]);
  // The instance's label changes in place; its hostname (force-new) is left as it was.
  const instance = second.steps.find((s) => s.type === "vultr:index/instance:Instance");
  expect([instance?.op, instance?.diffs]).toEqual(["update", ["label"]]);
  expect(second.ran.filter((r) => r.kind === "bootstrap")).toEqual([]);
  // Once it is up, formerName can go: nothing changes.
  delete tokyo.formerName;
  w.setFleet(renamed);
  const third = await w.run();
  expect(third.errors).toEqual([]);
  expect(third.ran).toEqual([]);
});

test("a node whose public ports change moves to the firewall of its new ports, in place", async () => {
  const fleet = clavitor(["zurich", "tokyo", "seoul"]);
  const w = await converged(fleet);
  const groups = () => w.cloud.api.all<{ description: string }>("vultr.group");
  /** The TCP ports the edge in front of a node lets everyone through to. */
  const open = (name: string) =>
    [...w.cloud.hosts.values()]
      .find((h) => h.name === name)
      ?.edge?.filter((r) => r.cidr === "0.0.0.0/0")
      .map((r) => r.ports?.[0]);
  expect(groups()).toHaveLength(1);

  const opened = structuredClone(fleet);
  opened.nodes.find((n: Raw) => n.name === "tokyo").publicTcpPorts = [8443];
  w.setFleet(opened);
  const second = await w.run();
  expect(second.errors).toEqual([]);
  // A second group with its rules; tokyo's instance moves to it in place; seoul's group stays.
  expect(machinery(second.steps).filter((s) => !s.includes("-tcp-"))).toEqual([
    expect.stringMatching(/^create clavitor-public-[0-9a-f]{8}$/),
  ]);
  const moved = second.steps.filter((s) => s.type === "vultr:index/instance:Instance");
  expect(moved.map((s) => [nameOf(s), s.op, s.diffs])).toEqual([
    ["seoul", "same", []],
    ["tokyo", "update", ["firewallGroupId"]],
  ]);
  expect(groups()).toHaveLength(2);
  expect(open("tokyo")).toEqual([80, 443, 8443]);
  expect(open("seoul")).toEqual([80, 443]);

  // Back: tokyo rejoins seoul's group, and the group no node uses is deleted after it moved.
  w.setFleet(fleet);
  const third = await w.run();
  expect(third.errors).toEqual([]);
  const order = third.steps
    .filter((s) => s.op !== "same" && !s.type.startsWith("command:"))
    .map((s) => `${s.op} ${s.type.split(":").pop()}`);
  expect(order[0]).toBe("update Instance");
  expect(order.slice(1).every((o) => o.startsWith("delete "))).toBe(true);
  expect(order).toContain("delete FirewallGroup");
  expect(groups()).toHaveLength(1);
  expect(open("tokyo")).toEqual([80, 443]);
});

test("a vault node's server is protected: a region change fails, naming the field", async () => {
  const fleet = clavitor(["zurich", "tokyo"]);
  const w = await converged(fleet);
  const moved = structuredClone(fleet);
  moved.nodes.find((n: Raw) => n.name === "tokyo").region = "sgp";
  w.setFleet(moved);
  const refused = await w.run();
  expect(refused.errors).toEqual([
    expect.stringMatching(
      /unable to replace resource ".*::tokyo" as it is currently marked for protection.*\[diff: ~region\]/,
    ),
  ]);
  expect(machinery(refused.steps)).toEqual([]);
  // allowReplace lets it go: a new server, first contact with it, then its push.
  moved.nodes.find((n: Raw) => n.name === "tokyo").allowReplace = true;
  w.setFleet(moved);
  const replaced = await w.run();
  expect(replaced.errors).toEqual([]);
  expect(machinery(replaced.steps)).toEqual(["replace tokyo"]);
  // The old machine leaves the mesh first, over its management path (tokyo's mesh address),
  // once the new one exists and before anything reaches the new one: the retire is deleted
  // before its replacement, and first contact waits for it.
  const ran = replaced.ran.map((r) => `${r.kind} ${r.host}`);
  expect(ran.slice(0, 3)).toEqual([
    "retire 10.84.0.10",
    expect.stringMatching(/^bootstrap 198\.18\.1\./),
    expect.stringMatching(/^confirm 198\.18\.1\./),
  ]);
  expect(ran).toContain("push 10.84.0.10");
  const order = replaced.steps.map((s) => `${s.op} ${nameOf(s)}`);
  const at = (step: string) => order.indexOf(step);
  expect(at("replace tokyo")).toBeLessThan(at("delete-replaced tokyo-retire"));
  expect(at("delete-replaced tokyo-retire")).toBeLessThan(at("replace tokyo-retire"));
  expect(at("replace tokyo-retire")).toBeLessThan(at("replace tokyo-bootstrap"));
  // The old machine itself goes last, as Pulumi deletes what it replaced.
  expect(order.at(-1)).toBe("delete-replaced tokyo");
});

test("a node managed over its public address: the retire reaches the old machine there, and sees wg0 gone", async () => {
  // SSH open to the internet: its management path is its public address, which a new
  // machine does not share, and whose SSH still answers after the old one left the mesh.
  const fleet = clavitor(["zurich", "tokyo"]);
  const tokyo = fleet.nodes.find((n: Raw) => n.name === "tokyo");
  Object.assign(tokyo, { publicTcpPorts: [22], allowPublic: ["ssh"], allowReplace: true });
  const w = await converged(fleet);
  const old = [...w.cloud.hosts.values()].find((h) => h.name === "tokyo")!.ip;
  const moved = structuredClone(fleet);
  moved.nodes.find((n: Raw) => n.name === "tokyo").region = "sgp";
  w.setFleet(moved);
  const replaced = await w.run();
  expect(replaced.errors).toEqual([]);
  const now = [...w.cloud.hosts.values()].find((h) => h.name === "tokyo")!.ip;
  expect(now).not.toBe(old);
  expect(replaced.ran.slice(0, 2).map((r) => `${r.kind} ${r.host}`)).toEqual([
    `retire ${old}`,
    `bootstrap ${now}`,
  ]);
  expect(w.transport.said).toEqual([
    "tokyo: the machine leaves the mesh; waiting until its wg0 is gone",
    "tokyo: it has left the mesh: wg0 is gone",
  ]);
});

test("a removed node's machine leaves the mesh before it is deleted", async () => {
  // A vault server is protected from deletion too, unless it allows replacement.
  const fleet = clavitor(["zurich", "tokyo", "seoul"]);
  fleet.nodes.find((n: Raw) => n.name === "seoul").allowReplace = true;
  const w = await converged(fleet);
  w.setFleet(clavitor(["zurich", "tokyo"]));
  const removed = await w.run();
  expect(removed.errors).toEqual([]);
  expect(removed.ran.filter((r) => r.kind === "retire").map((r) => r.host)).toEqual(["10.84.0.11"]);
  const order = removed.steps.map((s) => `${s.op} ${nameOf(s)}`);
  expect(order.indexOf("delete seoul-retire")).toBeGreaterThan(-1);
  expect(order.indexOf("delete seoul-retire")).toBeLessThan(order.indexOf("delete seoul"));
});

test("a node's first up and a no-op up run no retire", async () => {
  const w = await converged(clavitor(["zurich", "tokyo"]));
  expect(w.transport.ran.filter((r) => r.kind === "retire")).toEqual([]);
  const again = await w.run();
  expect(again.ran).toEqual([]);
  expect(again.steps.every((s) => s.op === "same")).toBe(true);
});

test("a new operator key replaces no server: the key pair is new, the instance keeps its own", async () => {
  const fleet = engineFleet("openclaw");
  const w = await converged(fleet);
  const rotated = structuredClone(fleet);
  rotated.ssh.authorizedKeys = [
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHrotatedrotatedrotatedrotatedrotatedrotatedro operator@new",
  ];
  w.setFleet(rotated);
  const second = await w.run();
  expect(machinery(second.steps)).toEqual(["replace server-1-keypair"]);
  expect(second.errors).toEqual([]);
});

test("a preview with a new spoke names the pushes that change: the others stay known", async () => {
  const w = await converged(clavitor(["zurich", "tokyo"]));
  w.setFleet(clavitor(["zurich", "tokyo", "seoul"]));
  const preview = await w.run("preview");
  expect(preview.errors).toEqual([]);
  const step = (name: string) => preview.steps.find((s) => nameOf(s) === name);
  const unknown = (name: string) => step(name)?.detail.some((d) => d.includes("unknown until up"));
  // The hub's peer list holds seoul's key, not known before seoul exists.
  expect([step("zurich-push")?.op, unknown("zurich-push")]).toEqual(["replace", true]);
  // tokyo reads only its own and the hub's facts: its change (seoul's ping let in) is known.
  expect([step("tokyo-push")?.op, unknown("tokyo-push")]).toEqual(["replace", false]);
  expect(step("seoul-push")?.op).toBe("create");
});

/** clawd (seed 000, full mesh, an entry node, a host behind NAT), first contact from here. */
const clawd = (): Raw => engineFleet("clawd");

test("a new cloud node in a full mesh converges in one up; every node learns it", async () => {
  const fleet = clawd();
  const w = await converged(fleet);
  const grown = structuredClone(fleet);
  grown.nodes.push({
    name: "paris",
    provider: "vultr",
    region: "cdg",
    plan: "vc2-1c-1gb",
    os: "debian",
    meshIp: "10.0.0.5",
  });
  w.setFleet(grown);
  const second = await w.run();
  expect(second.errors).toEqual([]);
  expect(machinery(second.steps).sort()).toEqual(
    expect.arrayContaining(["create paris", "create paris-wg-key", "create paris-host-key"]),
  );
  expect(machinery(second.steps).every((s) => s.startsWith("create "))).toBe(true);
  const pushed = second.ran.filter((r) => r.kind === "push").map((r) => r.host);
  // clawd and plutos on their public SSH; nexus, brutus and paris over the mesh through clawd.
  expect(pushed.sort()).toEqual([
    "10.0.0.1",
    "10.0.0.3",
    "10.0.0.5",
    "85.215.46.147",
    "87.106.3.190",
  ]);
  // First contact with paris only, on its public side, as its image's user.
  expect(second.ran.filter((r) => r.kind === "bootstrap").map((r) => r.user)).toEqual(["root"]);
});

test("a new host behind NAT gets first contact at the address given for it, then its push", async () => {
  const fleet = clavitor(["zurich", "tokyo"]);
  const w = await converged(fleet);
  const grown = structuredClone(fleet);
  grown.nodes.push({
    name: "attic",
    provider: "existing",
    region: "home",
    os: "debian",
    publicIp: null,
    firstContactAddress: "192.168.1.60:22",
    sshHostKey: fleet.nodes[0].sshHostKey,
    id: 30,
  });
  w.setFleet(grown);
  const second = await w.run();
  expect(second.errors).toEqual([]);
  const bootstraps = second.ran.filter((r) => r.kind === "bootstrap");
  expect(bootstraps.map((r) => [r.host, r.user])).toEqual([["192.168.1.60", "soc"]]);
  // The hub learns attic first; attic is then pushed over the mesh, through it.
  const pushed = second.ran.filter((r) => r.kind === "push").map((r) => r.host);
  expect(pushed[0]).toBe("10.84.0.1");
  expect(pushed).toContain("10.84.0.30");
});

test("a role added to a node replaces nothing: its files land by the push", async () => {
  const fleet = clavitor(["zurich", "tokyo"]);
  const w = await converged(fleet);
  const more = structuredClone(fleet);
  const tokyo = more.nodes.find((n: Raw) => n.name === "tokyo");
  tokyo.roles = [...tokyo.roles, "ollama"];
  tokyo.ollama = { models: [{ name: "qwen2.5-coder:3b", purpose: "coding" }] };
  w.setFleet(more);
  const second = await w.run();
  expect(second.errors).toEqual([]);
  expect(machinery(second.steps).filter((s) => !s.includes("clawd-mesh:"))).toEqual([]);
  const replaced = second.steps.filter((s) => s.op === "replace").map(nameOf);
  expect(replaced).toEqual(["tokyo-push"]);
});

test("an existing host leaving: given back before the nodes on its path drop it, confirmed the way its owner logs in", async () => {
  const fleet = clawd();
  const w = await converged(fleet);
  const leaving = structuredClone(fleet);
  leaving.nodes.find((n: Raw) => n.name === "brutus").decommission = true;
  w.setFleet(leaving);
  const second = await w.run();
  expect(second.errors).toEqual([]);
  expect(machinery(second.steps)).toEqual([]);
  // brutus is managed through clawd: it is given back first, over that path; the confirmation
  // comes in on its public address, as first contact did; then clawd drops it.
  const order = second.ran.map((r) => `${r.kind} ${r.host}${r.via ? ` via ${r.via}` : ""}`);
  const given = order.indexOf("push 10.0.0.3 via 85.215.46.147");
  expect(given).toBeGreaterThanOrEqual(0);
  const confirmed = order.indexOf("confirm 87.106.6.144");
  expect(confirmed).toBeGreaterThan(given);
  expect(order.indexOf("push 85.215.46.147")).toBeGreaterThan(confirmed);
  // Removing it from the stack afterwards runs nothing on any host.
  w.setFleet({ ...fleet, nodes: fleet.nodes.filter((n: Raw) => n.name !== "brutus") });
  const third = await w.run();
  expect(third.errors).toEqual([]);
  expect(third.ran.filter((r) => r.host === "10.0.0.3" || r.host === "87.106.6.144")).toEqual([]);
});
