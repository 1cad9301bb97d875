// Day two on converged labs, each change one `up` through the engine as an operator would make
// it, ending with the reachability matrix at no mismatch, while a watcher keeps logging in to
// every node as the operator: the longest stretch a node did not answer is reported per change.
// Seed 000 (clawd: full mesh, an entry node, a host behind NAT): a node added, renamed, given a
// role, removed; the operator's key and nodes' WireGuard keys rotated. A hub-spoke part of prod
// (its hub, its entry node, a spoke, and a spoke behind NAT): the hub's WireGuard key rotated,
// with its switch not confirmed, with the NAT spoke's; the entry node's; every key at once; and
// a spoke's push not confirmed after the hub's switch.
import type { Lab } from "../../lab/lab";
import {
  changed,
  counts,
  LAB_WINDOW,
  NOTHING_CHANGED,
  startLab,
  stopLab,
  up,
} from "../helpers/lab";
import { checkpointFile } from "../../lab/engine/stacks";
import { reveal } from "../../lab/engine/values";
import { loadAssignments, type RawFleet } from "../../lab/twin";
import { randomBytes } from "node:crypto";
import { sshHostKeyFromSeed } from "../../core/crypto/keys";
import { loadStackFleet } from "../../core/fleet/load";
import { PROJECT_DIR } from "../helpers/stacks";
import { change, keys, pushes, report, until, upNotConfirmed, watch } from "../helpers/dayTwo";

let lab: Lab;
afterAll(() => console.log(`day two:\n${report.join("\n")}`));

/**
 * What changed besides pushes; plutos's records are deleted here only when these tests run
 * without the ones before them (which remove plutos first).
 */
const pushesOnly = (run: Awaited<ReturnType<typeof up>>) =>
  changed(run).filter((s) => !s.name.endsWith("-push") && !s.name.startsWith("plutos"));

describe("on clawd (seed 000)", () => {
  beforeAll(async () => {
    lab = await startLab("clawd");
  }, 300_000);
  afterAll(() => stopLab());

  /** The stack file's fleet, as the operator edits it. */
  const base = (): RawFleet => loadStackFleet(PROJECT_DIR, "clawd") as RawFleet;
  const EXISTING = ["clawd", "brutus", "plutos", "nexus"];
  const paris = {
    name: "paris",
    provider: "vultr",
    region: "cdg",
    plan: "vc2-1c-1gb",
    os: "debian",
    meshIp: "10.0.0.5",
  };

  test("a node added in a full mesh converges in one up, and every node learns it", async () => {
    const { run, gaps } = await change(
      lab,
      "add paris",
      { ...base(), nodes: [...base().nodes, paris] },
      EXISTING,
    );
    expect(counts(run)).toMatchObject({ deleted: 0, replaced: 4 }); // the other four pushes
    expect(lab.nodeHost("paris")).toBeDefined();
    const key = lab.facts().get("paris")!.wgPublicKey;
    for (const node of EXISTING) {
      expect([node, lab.nodeHost(node)!.run("wg", ["show", "wg0", "peers"])]).toEqual([
        node,
        expect.stringContaining(key),
      ]);
    }
    // wg syncconf keeps the tunnels that stay: no node went dark for a whole rollback window.
    for (const [node, s] of Object.entries(gaps)) expect([node, s < 30]).toEqual([node, true]);
  }, 400_000);

  test("renamed with formerName: the same server and keys, only pushes run", async () => {
    const key = lab.facts().get("paris")!.wgPublicKey;
    const fleet = base();
    const { run } = await change(
      lab,
      "rename paris to lyon",
      { ...fleet, nodes: [...fleet.nodes, { ...paris, name: "lyon", formerName: "paris" }] },
      EXISTING,
    );
    expect(counts(run)).toMatchObject({ created: 0, deleted: 0 });
    expect(lab.facts().get("lyon")?.wgPublicKey).toBe(key);
    // The lab still knows the machine by the name it was booted with: it is the same one.
    expect(lab.nodeHost("paris")).toBeDefined();
  }, 400_000);

  test("a role added: nothing replaced but the push; the role's port opens where the rules say", async () => {
    const fleet = base();
    const lyon = {
      ...paris,
      name: "lyon",
      roles: ["ollama"],
      ollama: { models: [{ name: "qwen2.5-coder:3b", purpose: "coding" }] },
    };
    const { run } = await change(
      lab,
      "give lyon the ollama role",
      {
        ...fleet,
        nodes: [...fleet.nodes, lyon],
        access: [...fleet.access, { from: ["node:clawd"], to: ["node:lyon"], tcp: [11434] }],
      },
      EXISTING,
    );
    expect(counts(run)).toMatchObject({ deleted: 0 });
    const replaced = changed(run).filter((s) => s.op === "+-");
    expect(replaced.every((s) => s.name.endsWith("-push"))).toBe(true);
    const nft = lab.nodeHost("paris")!.run("nft", ["list", "table", "inet", "clawd_mesh"]);
    expect(nft).toMatch(/11434/);
  }, 400_000);

  test("removed: its server goes, and every node drops it in the same up", async () => {
    const key = lab.facts().get("lyon")!.wgPublicKey;
    const { run } = await change(lab, "remove lyon", base(), EXISTING);
    expect(counts(run).deleted).toBeGreaterThan(0);
    expect(lab.nodeHost("paris")).toBeUndefined();
    for (const node of EXISTING) {
      expect([node, lab.nodeHost(node)!.run("wg", ["show", "wg0", "peers"])]).toEqual([
        node,
        expect.not.stringContaining(key),
      ]);
    }
  }, 400_000);

  test("an existing host leaving is given back as first contact found it; the others drop it", async () => {
    const admin = base().ssh.adminUser as string;
    const plutos = lab.nodeHost("plutos")!;
    const key = lab.facts().get("plutos")!.wgPublicKey;
    const publicIp = lab.facts().get("plutos")!.publicIpv4!;
    const fleet = base();
    await change(
      lab,
      "decommission plutos",
      {
        ...fleet,
        nodes: fleet.nodes.map((n: RawFleet) =>
          n.name === "plutos" ? { ...n, decommission: true } : n,
        ),
      },
      ["clawd", "brutus", "nexus"],
    );
    // Its own sshd configuration, its owner's sudo rule; no mesh, no table, no receiver.
    expect(plutos.run("cat", ["/etc/ssh/sshd_config"])).not.toContain("clawd-mesh");
    expect(plutos.try("ip", ["link", "show", "wg0"]).status).not.toBe(0);
    expect(plutos.try("nft", ["list", "table", "inet", "clawd_mesh"]).status).not.toBe(0);
    expect(plutos.try("test", ["-e", "/usr/local/sbin/clawd-mesh-receive"]).status).not.toBe(0);
    expect(plutos.run("sudo", ["-l", "-U", admin])).toMatch(/\(ALL\) NOPASSWD: ALL/);
    // The owner's way in: the admin account, with its key, on the public address, the host key
    // pinned (the stack's ssh_config no longer names plutos).
    const operator = lab.site.operator();
    const hostKey = lab.facts().get("plutos")!.hostKey;
    operator.run("sh", ["-c", "cat >/tmp/plutos_known_hosts"], {
      input: `${publicIp} ${hostKey}\n`,
    });
    const owner = await operator.runAsync(
      "ssh",
      ["-F", "/root/.ssh/lab_config", "-o", "UserKnownHostsFile=/tmp/plutos_known_hosts"].concat([
        `${admin}@${publicIp}`,
        "sudo -n true && echo in",
      ]),
      { timeoutMs: 30_000 },
    );
    expect([owner.stdout.trim(), owner.stderr]).toEqual(["in", expect.any(String)]);
    for (const node of ["clawd", "brutus", "nexus"]) {
      expect([node, lab.nodeHost(node)!.run("wg", ["show", "wg0", "peers"])]).toEqual([
        node,
        expect.not.stringContaining(key),
      ]);
    }
  }, 400_000);

  test("then removed from the stack: its records go, and nothing runs on any host", async () => {
    const fleet = base();
    const { run } = await change(
      lab,
      "remove plutos from the stack",
      { ...fleet, nodes: fleet.nodes.filter((n: RawFleet) => n.name !== "plutos") },
      ["clawd", "brutus", "nexus"],
    );
    expect(counts(run)).toMatchObject({ created: 0, replaced: 0, commands: 0 });
    expect(counts(run).deleted).toBeGreaterThan(0);
  }, 400_000);

  test("the operator's key rotated — add the new, switch to it, remove the old — with no lockout and no server replaced", async () => {
    const nodes = ["clawd", "brutus", "nexus"];
    const old = loadAssignments().operatorKey;
    const next = sshHostKeyFromSeed(randomBytes(32).toString("base64"), "lab-operator");
    const twin = lab.twin();
    const withKeys = (keys: string[]) => ({ ...twin, ssh: { ...twin.ssh, authorizedKeys: keys } });
    const steps: [string, () => void][] = [
      [
        "add the new key",
        () => lab.useTwin(withKeys([`${old.publicKey} old`, `${next.publicKey} new`])),
      ],
      // The program now signs in with the new key (the stack's sshPrivateKey).
      ["switch to the new key", () => lab.useOperatorKey(next)],
      ["remove the old key", () => lab.useTwin(withKeys([`${next.publicKey} new`]))],
    ];
    try {
      for (const [what, apply] of steps) {
        apply();
        const watcher = watch(lab, nodes);
        const started = Date.now();
        const run = await up(lab);
        const gaps = await watcher.stop();
        expect([what, counts(run).created, counts(run).deleted]).toEqual([what, 0, 0]);
        // Every step reaches every node, each with the key it has then (the switch: the new one).
        expect([what, counts(run).commands]).toEqual([what, nodes.length]);
        expect(changed(run).filter((s) => !s.name.endsWith("-push"))).toEqual([]);
        const longest = Math.max(...Object.values(gaps));
        report.push(
          `  operator key, ${what}: ${((Date.now() - started) / 1000).toFixed(1)} s, ${counts(run).commands} commands; longest a node did not answer: ${longest.toFixed(1)} s`,
        );
        for (const [node, s] of Object.entries(gaps))
          expect([what, node, s < 30]).toEqual([what, node, true]);
      }
      // Only the new key logs in now: the old one, straight at clawd's public SSH, is refused.
      const operator = lab.site.operator();
      const clawd = lab.facts().get("clawd")!;
      operator.run("sh", ["-c", "umask 077 && cat >/tmp/old_key"], { input: old.privateKey });
      operator.run("sh", ["-c", "cat >/tmp/clawd_known_hosts"], {
        input: `${clawd.publicIpv4} ${clawd.hostKey}\n`,
      });
      const login = (key: string) =>
        operator.runAsync(
          "ssh",
          [
            ...["-F", "/dev/null", "-i", key, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"],
            ...[
              "-o",
              "UserKnownHostsFile=/tmp/clawd_known_hosts",
              "-o",
              "StrictHostKeyChecking=yes",
            ],
            `${base().ssh.adminUser}@${clawd.publicIpv4}`,
            "true",
          ],
          { timeoutMs: 30_000 },
        );
      const withOld = await login("/tmp/old_key");
      expect([withOld.status, withOld.stderr]).toEqual([
        255,
        expect.stringMatching(/Permission denied/),
      ]);
      operator.run("sh", ["-c", "umask 077 && cat >/tmp/new_key"], { input: next.privateKey });
      expect((await login("/tmp/new_key")).status).toBe(0);
    } finally {
      lab.useFleet(undefined);
    }
  }, 600_000);

  /** The stack as it stands now (plutos gone), with these WireGuard key generations. */
  const withGenerations = (generations: Record<string, number>): RawFleet => {
    const fleet = base();
    return {
      ...fleet,
      nodes: fleet.nodes
        .filter((n: RawFleet) => n.name !== "plutos")
        .map((n: RawFleet) =>
          generations[n.name] ? { ...n, wireguardKeyGeneration: generations[n.name] } : n,
        ),
    };
  };

  test("a node's WireGuard key rotated: the node it is reached through follows it, every peer learns the new key", async () => {
    const nodes = ["clawd", "brutus", "nexus"];
    const before = keys(lab, nodes);
    const { run, gaps } = await change(
      lab,
      "rotate brutus's WireGuard key",
      withGenerations({ brutus: 1 }),
      nodes,
    );
    expect(counts(run).created).toBe(0);
    expect(pushesOnly(run)).toEqual([]);
    const after = keys(lab, nodes);
    const rotated = after.own.brutus as string;
    expect(rotated).not.toBe(before.own.brutus);
    expect(lab.facts().get("brutus")!.wgPublicKey).toBe(rotated);
    expect({ clawd: after.own.clawd, nexus: after.own.nexus }).toEqual({
      clawd: before.own.clawd,
      nexus: before.own.nexus,
    });
    // No peer is left with the old key; each holds the new one.
    expect(after.held).not.toContain(before.own.brutus);
    for (const n of ["clawd", "nexus"]) {
      expect([n, lab.nodeHost(n)!.run("wg", ["show", "wg0", "peers"])]).toEqual([
        n,
        expect.stringContaining(rotated),
      ]);
    }
    for (const [node, s] of Object.entries(gaps)) expect([node, s < 30]).toEqual([node, true]);
    // The follow ended by itself, and put clawd's own configuration back.
    expect(lab.nodeHost("clawd")!.run("cat", ["/var/lib/clawd-mesh/follow.log"])).toBe("");
    expect(counts(await up(lab))).toMatchObject(NOTHING_CHANGED);
  }, 600_000);

  test("two keys rotated in one up, one of them behind NAT: both converge, nothing is left stale", async () => {
    const nodes = ["clawd", "brutus", "nexus"];
    const before = keys(lab, nodes);
    const { run } = await change(
      lab,
      "rotate brutus's and nexus's WireGuard keys",
      withGenerations({ brutus: 2, nexus: 1 }),
      nodes,
    );
    expect(counts(run).created).toBe(0);
    expect(pushesOnly(run)).toEqual([]);
    const after = keys(lab, nodes);
    expect(after.own.brutus).not.toBe(before.own.brutus);
    expect(after.own.nexus).not.toBe(before.own.nexus);
    expect(after.held).not.toContain(before.own.brutus);
    expect(after.held).not.toContain(before.own.nexus);
    expect(counts(await up(lab))).toMatchObject(NOTHING_CHANGED);
  }, 600_000);

  test("the entry node's WireGuard key rotated: it goes first, every node follows it ahead and learns the new key by its own push", async () => {
    const nodes = ["clawd", "brutus", "nexus"];
    const before = keys(lab, nodes);
    const { run, gaps } = await change(
      lab,
      "rotate the entry node clawd's WireGuard key",
      withGenerations({ brutus: 2, nexus: 1, clawd: 1 }),
      nodes,
    );
    expect(counts(run).created).toBe(0);
    expect(pushesOnly(run)).toEqual([]);
    expect(changed(run).filter((s) => s.name.endsWith("-push"))[0]?.name).toBe("clawd-push");
    const after = keys(lab, nodes);
    const rotated = after.own.clawd as string;
    expect(rotated).not.toBe(before.own.clawd);
    expect(lab.facts().get("clawd")!.wgPublicKey).toBe(rotated);
    expect(after.held).not.toContain(before.own.clawd);
    for (const n of ["brutus", "nexus"]) {
      expect(after.own[n]).toBe(before.own[n]);
      expect([n, lab.nodeHost(n)!.run("wg", ["show", "wg0", "peers"])]).toEqual([
        n,
        expect.stringContaining(rotated),
      ]);
      expect([n, lab.nodeHost(n)!.run("ls", ["-A", "/var/lib/clawd-mesh/follow"])]).toEqual([
        n,
        "",
      ]);
    }
    for (const [node, s] of Object.entries(gaps)) expect([node, s < 30]).toEqual([node, true]);
    expect(counts(await up(lab))).toMatchObject(NOTHING_CHANGED);
  }, 600_000);
});

/**
 * A hub-spoke part of prod: its hub (zurich, without the vault role here), its entry node
 * (clawd), a spoke managed through both (brutus), and a spoke behind NAT (seed 000's nexus; no
 * stack has one in hub-spoke). The hub's key, the NAT spoke's, the entry node's and the other
 * spoke's, at these generations.
 */
const hubSpoke = (
  generation = 0,
  natGeneration = 0,
  entryGeneration = 0,
  spokeGeneration = 0,
): RawFleet => {
  const prod = loadStackFleet(PROJECT_DIR, "prod") as RawFleet;
  const nexus = (loadStackFleet(PROJECT_DIR, "clawd") as RawFleet).nodes.find(
    (n: RawFleet) => n.name === "nexus",
  );
  // Its mesh address is numbered in prod's range instead of the one clawd's stack gives it.
  const behindNat = {
    ...nexus,
    meshIp: undefined,
    id: 35,
    ...(natGeneration && { wireguardKeyGeneration: natGeneration }),
  };
  const spokes: Record<string, number> = { clawd: entryGeneration, brutus: spokeGeneration };
  const nodes = (prod.nodes as RawFleet[])
    .filter((n) => ["zurich", "clawd", "brutus"].includes(n.name))
    .map((n) =>
      n.name === "zurich"
        ? {
            ...n,
            roles: ["hub"],
            vault: undefined,
            dnsName: undefined,
            ...(generation && { wireguardKeyGeneration: generation }),
          }
        : { ...n, ...(spokes[n.name] && { wireguardKeyGeneration: spokes[n.name] }) },
    );
  // Undefined keys go, as an operator would delete the lines.
  return JSON.parse(
    JSON.stringify({
      ...prod,
      nodes: [...nodes, behindNat],
      access: (prod.access as RawFleet[]).filter((a) => !a.to.includes("node:openclaw")),
    }),
  ) as RawFleet;
};

describe("on a hub-spoke part of prod", () => {
  beforeAll(async () => {
    lab = await startLab("prod", { fleet: hubSpoke() });
  }, 600_000);
  afterAll(() => stopLab());

  test("the hub's WireGuard key rotated: the hub goes first, every node follows it ahead, and learns the new key by its own push", async () => {
    const nodes = ["zurich", "clawd", "brutus", "nexus"];
    const before = keys(lab, nodes);
    const { run, gaps } = await change(
      lab,
      "rotate the hub zurich's WireGuard key",
      hubSpoke(1),
      nodes,
    );
    // The hub's push ran first, and had the three follow it ahead before its switch (its own
    // words, kept in the state as the command's stderr).
    expect(pushes(run)[0]).toBe("zurich");
    const hubPush = checkpointFile("prod")
      .load("prod")
      .resources.find((r) => r.urn.endsWith("::zurich-push"));
    expect(String(reveal(hubPush?.outputs.stderr ?? ""))).toContain(
      "brutus, clawd, nexus follow zurich's WireGuard key to its new one",
    );
    expect(counts(run).created).toBe(0);
    expect(pushesOnly(run)).toEqual([]);
    const after = keys(lab, nodes);
    const rotated = after.own.zurich as string;
    expect(rotated).not.toBe(before.own.zurich);
    expect(lab.facts().get("zurich")!.wgPublicKey).toBe(rotated);
    for (const n of ["clawd", "brutus", "nexus"]) expect(after.own[n]).toBe(before.own[n]);
    // No node is left with the old key; each spoke holds the new one as its one peer.
    expect(after.held).not.toContain(before.own.zurich);
    for (const n of ["clawd", "brutus", "nexus"]) {
      expect([n, lab.nodeHost(n)!.run("wg", ["show", "wg0", "peers"]).trim()]).toEqual([
        n,
        rotated,
      ]);
      // Each follow was ended by the node's own push, quietly, and none is left running.
      expect([n, lab.nodeHost(n)!.run("cat", ["/var/lib/clawd-mesh/follow.log"])]).toEqual([n, ""]);
      expect([n, lab.nodeHost(n)!.run("ls", ["-A", "/var/lib/clawd-mesh/follow"])]).toEqual([
        n,
        "",
      ]);
    }
    for (const [node, s] of Object.entries(gaps)) expect([node, s < 30]).toEqual([node, true]);
    const again = await up(lab);
    expect(counts(again)).toMatchObject(NOTHING_CHANGED);
  }, 900_000);

  test("a hub switch that is not confirmed goes back by itself, every node follows it back, and the next up completes the rotation", async () => {
    const nodes = ["zurich", "clawd", "brutus", "nexus"];
    const before = keys(lab, nodes);
    const zurich = lab.nodeHost("zurich")!;
    // The hub's confirmation cannot arrive: it goes back to its previous key.
    lab.useFleet(hubSpoke(2));
    await upNotConfirmed(lab, "zurich");
    await until(
      "the hub back on its previous key",
      () => zurich.run("wg", ["show", "wg0", "public-key"]).trim() === before.own.zurich,
      LAB_WINDOW + 60,
    );
    // Every node answers the operator again: the followers found the hub on its previous key.
    const back = Date.now();
    for (const n of nodes) {
      await until(
        `${n} answering`,
        async () => (await lab.ssh(n, "true", "", 10_000)).status === 0,
        90,
      );
    }
    report.push(
      `  a hub switch not confirmed: the hub went back by itself; every node answered the operator again ${((Date.now() - back) / 1000).toFixed(1)} s after`,
    );
    const { run } = await change(
      lab,
      "rotate the hub zurich's WireGuard key again, after a switch that was not confirmed",
      hubSpoke(2),
      nodes,
    );
    expect(counts(run).created).toBe(0);
    const after = keys(lab, nodes);
    expect(after.own.zurich).not.toBe(before.own.zurich);
    expect(after.held).not.toContain(before.own.zurich);
    for (const n of ["clawd", "brutus", "nexus"]) {
      expect([n, lab.nodeHost(n)!.run("ls", ["-A", "/var/lib/clawd-mesh/follow"])]).toEqual([
        n,
        "",
      ]);
    }
    expect(counts(await up(lab))).toMatchObject(NOTHING_CHANGED);
  }, 900_000);

  test("the hub's key and a NAT spoke's rotated in one up: the hub goes first, the spoke's push has the hub follow it behind", async () => {
    const nodes = ["zurich", "clawd", "brutus", "nexus"];
    const before = keys(lab, nodes);
    const { run, gaps } = await change(
      lab,
      "rotate the hub zurich's and the NAT spoke nexus's WireGuard keys",
      hubSpoke(3, 1),
      nodes,
    );
    expect(counts(run).created).toBe(0);
    expect(pushesOnly(run)).toEqual([]);
    const after = keys(lab, nodes);
    expect(after.own.zurich).not.toBe(before.own.zurich);
    expect(after.own.nexus).not.toBe(before.own.nexus);
    expect(after.held).not.toContain(before.own.zurich);
    expect(after.held).not.toContain(before.own.nexus);
    for (const [node, s] of Object.entries(gaps)) expect([node, s < 30]).toEqual([node, true]);
    expect(counts(await up(lab))).toMatchObject(NOTHING_CHANGED);
  }, 900_000);

  test("the entry node's key rotated: the hub goes first and keeps its previous key from its switch, then follows it to the new one", async () => {
    const nodes = ["zurich", "clawd", "brutus", "nexus"];
    const before = keys(lab, nodes);
    const { run, gaps } = await change(
      lab,
      "rotate the entry node clawd's WireGuard key (hub-spoke)",
      hubSpoke(3, 1, 1),
      nodes,
    );
    // The hub, reached through clawd, was pushed before it, and confirmed through it.
    const pushed = pushes(run);
    expect(pushed.indexOf("zurich")).toBeGreaterThanOrEqual(0);
    expect(pushed.indexOf("zurich")).toBeLessThan(pushed.indexOf("clawd"));
    expect(counts(run).created).toBe(0);
    expect(pushesOnly(run)).toEqual([]);
    const after = keys(lab, nodes);
    expect(after.own.clawd).not.toBe(before.own.clawd);
    for (const n of ["zurich", "brutus", "nexus"]) expect(after.own[n]).toBe(before.own[n]);
    expect(after.held).not.toContain(before.own.clawd);
    // The hub's own follow of clawd ended once clawd answered on its new key.
    const zurich = lab.nodeHost("zurich")!;
    expect(zurich.run("ls", ["-A", "/var/lib/clawd-mesh/follow"])).toBe("");
    expect(zurich.run("cat", ["/var/lib/clawd-mesh/follow.log"])).toBe("");
    for (const [node, s] of Object.entries(gaps)) expect([node, s < 30]).toEqual([node, true]);
    expect(counts(await up(lab))).toMatchObject(NOTHING_CHANGED);
  }, 900_000);

  test("every key rotated in one up: the hub first, keeping the entry node's previous key; every node converges on the new keys", async () => {
    const nodes = ["zurich", "clawd", "brutus", "nexus"];
    const before = keys(lab, nodes);
    const { run, gaps } = await change(
      lab,
      "rotate every WireGuard key at once (hub-spoke, entry node, spoke, NAT spoke)",
      hubSpoke(4, 2, 2, 1),
      nodes,
    );
    const pushed = pushes(run);
    expect(pushed[0]).toBe("zurich");
    expect([...pushed].sort()).toEqual([...nodes].sort());
    expect(counts(run).created).toBe(0);
    expect(pushesOnly(run)).toEqual([]);
    const after = keys(lab, nodes);
    for (const n of nodes) {
      expect([n, after.own[n] !== before.own[n]]).toEqual([n, true]);
      expect(after.held).not.toContain(before.own[n]);
    }
    for (const n of nodes) {
      expect([n, lab.nodeHost(n)!.run("ls", ["-A", "/var/lib/clawd-mesh/follow"])]).toEqual([
        n,
        "",
      ]);
    }
    for (const [node, s] of Object.entries(gaps)) expect([node, s < 30]).toEqual([node, true]);
    expect(counts(await up(lab))).toMatchObject(NOTHING_CHANGED);
  }, 900_000);

  test("a spoke's push not confirmed after the hub's switch: it goes back to the hub's previous key, its follow finds the hub on the new one, and the next up completes", async () => {
    const nodes = ["zurich", "clawd", "brutus", "nexus"];
    const before = keys(lab, nodes);
    const brutus = lab.nodeHost("brutus")!;
    // brutus switches after the hub's push, confirmed, and its confirmation cannot arrive.
    lab.useFleet(hubSpoke(5, 2, 2, 1));
    await upNotConfirmed(lab, "brutus");
    await until(
      "brutus rolled back",
      () => brutus.try("test", ["-d", "/var/lib/clawd-mesh/pending"]).status !== 0,
      LAB_WINDOW + 60,
    );
    // Its restored configuration names the hub's previous key; the follow still running ahead
    // finds the hub on its new one, and the operator reaches brutus again through it.
    const back = Date.now();
    await until(
      "brutus answering",
      async () => (await lab.ssh("brutus", "true", "", 10_000)).status === 0,
      90,
    );
    report.push(
      `  a spoke's push not confirmed after the hub's switch: it went back by itself and answered the operator again ${((Date.now() - back) / 1000).toFixed(1)} s after`,
    );
    const { run } = await change(
      lab,
      "the up after a spoke's push was not confirmed, mid-rotation",
      hubSpoke(5, 2, 2, 1),
      nodes,
    );
    expect(counts(run).created).toBe(0);
    const after = keys(lab, nodes);
    expect(after.own.zurich).not.toBe(before.own.zurich);
    expect(after.held).not.toContain(before.own.zurich);
    for (const n of nodes) {
      expect([n, lab.nodeHost(n)!.run("ls", ["-A", "/var/lib/clawd-mesh/follow"])]).toEqual([
        n,
        "",
      ]);
    }
    expect(counts(await up(lab))).toMatchObject(NOTHING_CHANGED);
  }, 900_000);
});
