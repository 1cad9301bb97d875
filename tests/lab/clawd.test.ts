// Seed 000 in the lab, brought up by the program through the engine: brutus and nexus have no
// public SSH, SSH to brutus works through clawd, nexus (no public address) joins by dialling
// out; and sshd passes ssh-audit.
import type { Lab } from "../../lab/lab";
import { INTERNET_NETNS } from "../../lab/network";
import { run } from "../helpers/run";
import { cell, counts, mismatches, probeMatrix, startLab, stopLab, up } from "../helpers/lab";

let lab: Lab;
beforeAll(async () => {
  lab = await startLab("clawd");
}, 300_000);
afterAll(() => stopLab());

test("the reachability matrix matches the policy", async () => {
  const m = await probeMatrix(lab);
  expect(m.cells.length).toBeGreaterThan(80);
  expect(mismatches(m)).toEqual([]);
  // From the internet: brutus shows nothing; clawd and plutos their SSH; nexus cannot be addressed.
  expect(cell(m, "internet", "brutus", "tcp/22")).toBe(false);
  expect(cell(m, "internet", "clawd", "tcp/22")).toBe(true);
  expect(cell(m, "internet", "plutos", "tcp/11434")).toBe(true);
  expect(m.cells.some((c) => c.from === "internet" && c.to === "nexus")).toBe(false);
}, 120_000);

test("SSH to brutus and nexus works through clawd, and only through clawd", async () => {
  for (const node of ["brutus", "nexus"]) {
    const viaJump = await lab.ssh(node, "hostname >/dev/null && echo through");
    expect([node, viaJump.stdout.trim()]).toEqual([node, "through"]);
  }
  // The same user and key, straight at brutus's public address: the firewall drops it.
  const brutus = lab.facts().get("brutus")!.publicIpv4!;
  expect(brutus).toMatch(/^198\.18\./);
  const direct = await lab.ssh(`admin@${brutus}`, "true", "", 20_000);
  expect(direct.status).toBe(255);
  expect(direct.stderr).toMatch(/timed out|refused/i);
});

test("nexus, behind NAT, dialled out: its peers know it at its router's address", () => {
  const router = lab.site.assignments.existing.nexus!.router!;
  const nexusKey = lab.facts().get("nexus")!.wgPublicKey;
  for (const node of ["clawd", "brutus", "plutos"]) {
    const dump = lab.nodeHost(node)!.run("wg", ["show", "wg0", "dump"]);
    const line = dump.split("\n").find((l) => l.startsWith(nexusKey)) ?? "";
    const [, , endpoint, , handshake] = line.split("\t");
    expect([node, endpoint?.split(":")[0]]).toEqual([node, router]);
    expect(Number(handshake)).toBeGreaterThan(Date.now() / 1000 - 180);
  }
});

test("ssh-audit finds nothing to warn about but the two this version gets wrong", () => {
  const clawd = lab.facts().get("clawd")!.publicIpv4!;
  const audit = run("ip", ["netns", "exec", INTERNET_NETNS, "ssh-audit", "-n", clawd], {
    timeoutMs: 60_000,
  });
  const findings = audit.stdout
    .split("\n")
    .filter((l) => /\[(warn|fail)\]/.test(l))
    .map((l) => l.replace(/\s+/g, " ").trim());
  expect(findings).toEqual([
    // The post-quantum hybrid exchange: newer ssh-audit releases prefer it.
    "(kex) sntrup761x25519-sha512@openssh.com -- [warn] using experimental algorithm",
    // OpenSSH's Terrapin countermeasure, newer than ssh-audit 2.5.
    "(kex) kex-strict-s-v00@openssh.com -- [warn] unknown algorithm",
  ]);
  const hostKeys = audit.stdout.split("\n").filter((l) => l.startsWith("(key)"));
  expect(hostKeys.map((l) => l.split(/\s+/)[1])).toEqual(["ssh-ed25519"]);
});

test("a new client for brutus: one push, by wg syncconf, dropping no tunnel and no packet", async () => {
  const brutus = lab.nodeHost("brutus")!;
  const runtime = () => ({
    // Its own wireguard-go (the lab's hosts share one pid namespace, so by its network's pids).
    wireguardGo: run("sh", [
      "-c",
      `for p in $(ip netns pids ${brutus.netns}); do [ "$(cat /proc/$p/comm)" = wireguard-go ] && echo $p; done`,
    ]).stdout.trim(),
    sshd: brutus.run("cat", ["/run/sshd.pid"]).trim(),
    // The interface's index: a new interface (a restart) would have a new one.
    link: brutus.run("ip", ["-o", "link", "show", "wg0"]).split(":")[0],
  });
  const transfer = () =>
    Object.fromEntries(
      brutus
        .run("wg", ["show", "wg0", "transfer"])
        .trim()
        .split("\n")
        .map((l) => l.split("\t"))
        .map(([peer, rx, tx]): [string, number] => [peer ?? "", Number(rx) + Number(tx)]),
    );
  const before = { runtime: runtime(), transfer: transfer() };
  // Traffic from clawd to brutus across the whole up: five pings a second.
  const brutusIp = lab.fleet().nodes.find((n) => n.name === "brutus")!.meshIp;
  const pings = lab
    .nodeHost("clawd")!
    .runAsync("ping", ["-n", "-q", "-i", "0.2", "-w", "25", brutusIp], { timeoutMs: 40_000 });
  const raw = lab.raw();
  lab.useFleet({
    ...raw,
    peers: [
      ...(raw.peers ?? []),
      { name: "tablet", group: "clients", meshIp: "10.0.0.50", publicKey: "" },
    ],
    access: [...raw.access, { from: ["peer:tablet"], to: ["node:brutus"], tcp: [11434] }],
  });
  const pushed = await up(lab);
  // Only brutus learns the new peer; nothing else is pushed.
  expect(counts(pushed)).toMatchObject({ replaced: 1, created: 0, deleted: 0, commands: 1 });
  expect(pushed.lines.some((l) => /brutus-push/.test(l) && /^\s*\+-/.test(l))).toBe(true);
  const tablet = lab.site.assignments.peers.tablet!.wg.publicKey;
  expect(brutus.run("wg", ["show", "wg0", "peers"])).toContain(tablet);
  const after = transfer();
  for (const [peer, bytes] of Object.entries(before.transfer)) {
    expect([peer, (after[peer] ?? 0) >= bytes]).toEqual([peer, true]);
  }
  expect(runtime()).toEqual(before.runtime);
  expect((await pings).stdout).toMatch(/ 0% packet loss/);
  expect(mismatches(await probeMatrix(lab))).toEqual([]);
}, 180_000);
