// The push on a host that boots systemd (stack ollama-home, its Debian node on a SystemdHost):
// the path production takes. The rollback is armed as a transient systemd timer and must fire
// within a second of its window, in each of the four faults that push.test.ts runs on init-less
// hosts; the services a reboot relies on are enabled; the admin user may run the receiver with
// sudo and nothing else; after a reboot the node is back on the mesh.
import { randomBytes } from "node:crypto";
import { wireguardPublicKey } from "../../core/crypto/keys";
import type { Lab } from "../../lab/lab";
import type { SystemdHost } from "../../lab/systemdHost";
import {
  counts,
  LAB_WINDOW,
  mismatches,
  probeMatrix,
  startLab,
  stopLab,
  tail,
  up,
} from "../helpers/lab";
import {
  installed,
  pending,
  rollbackTimer,
  rolledBack,
  sshdRefusesNewConfig,
  sshFromClientsOnly,
  withRule,
} from "../helpers/labPush";

let lab: Lab;
beforeAll(async () => {
  lab = await startLab("ollama-home", { hosts: "systemd", connectAttempts: 6 });
}, 300_000);
afterAll(() => stopLab());

const ai = () => lab.nodeHost("ai")!;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("a systemd host: ai's host boots systemd, and the push enabled what a reboot relies on", () => {
  expect(ai().init).toBe("systemd");
  const failed = ai().run("systemctl", ["--failed", "--no-legend", "--plain"]);
  expect(failed).toBe("");
  expect(ai().try("systemctl", ["is-system-running"]).stdout.trim()).toBe("running");
  const enabled = ai().run("systemctl", ["is-enabled", "wg-quick@wg0", "nftables", "ssh"]);
  expect(enabled.trim().split("\n")).toEqual(["enabled", "enabled", "enabled"]);
  expect(ai().run("wg", ["show", "wg0", "public-key"]).trim()).toMatch(/^[A-Za-z0-9+/]{43}=$/);
});

test("the admin user may run clawd-mesh-receive with sudo, and nothing else", async () => {
  const admin = lab.raw().ssh.adminUser as string;
  const listed = await lab.ssh("ai", "sudo -n -l");
  expect(listed.status).toBe(0);
  expect(listed.stdout).toContain(`User ${admin} may run the following commands`);
  const grants = listed.stdout.split(/may run the following commands on ai:/)[1] ?? "";
  expect(
    grants
      .trim()
      .split("\n")
      .map((l) => l.trim()),
  ).toEqual(["(root) NOPASSWD: /usr/local/sbin/clawd-mesh-receive"]);
  // The receiver itself, through sudo: its read-only state command answers.
  const state = await lab.ssh("ai", "sudo -n /usr/local/sbin/clawd-mesh-receive state");
  expect(state.status).toBe(0);
  expect(state.stdout).toContain("## sshd -T");
  for (const refused of ["sudo -n /bin/sh -c id", "sudo -n /usr/bin/id", "sudo -n -s true"]) {
    const ran = await lab.ssh("ai", refused);
    expect({ refused, status: ran.status }).toEqual({ refused, status: 1 });
    expect(ran.stderr).toMatch(/a password is required|not allowed/);
  }
}, 120_000);

describe("the four faults, each recovering by itself", () => {
  const recovery: Record<string, string> = {};
  afterEach(() => lab.useFleet(undefined));
  afterAll(async () => {
    console.log(
      `systemd host, rollback window ${LAB_WINDOW} s:\n${Object.entries(recovery)
        .map(([fault, what]) => `  ${fault}: ${what}`)
        .join("\n")}`,
    );
    // The stack as it is, for the tests after these.
    lab.useFleet(undefined);
    await up(lab);
  }, 120_000);

  /**
   * The up whose switch nobody confirms (the fleet is already changed): it fails with
   * `message`, the timer alone rolls the node back within a second of its window, every step
   * of the rollback succeeding, and the node runs what it ran before.
   */
  async function rolledBackByTheTimer(
    fault: string,
    message: RegExp,
    whilePending?: () => void,
  ): Promise<void> {
    const before = installed(ai());
    const started = Date.now();
    const running = lab.engine("up");
    let window: number | undefined;
    const armBy = Date.now() + 60_000;
    while (window === undefined && Date.now() < armBy) {
      const read = ai().try("cat", ["/var/lib/clawd-mesh/pending/window"]);
      if (read.status === 0) window = Number(read.stdout.trim());
      else await pause(200);
    }
    expect(window).toBe(LAB_WINDOW);
    whilePending?.();
    const run = await running;
    expect(run.ok).toBe(false);
    expect(tail(run)).toMatch(message);
    const back = await rolledBack(lab, "ai", started);
    const timer = rollbackTimer(ai(), LAB_WINDOW);
    recovery[fault] =
      `back ${back.toFixed(1)} s after the up started; the timer fired ` +
      `${timer.lateness.toFixed(3)} s after the window, the rollback began ${timer.began.toFixed(3)} s after it`;
    expect(timer.lateness).toBeGreaterThanOrEqual(0);
    // The window is kept to the second, not to systemd's default minute of accuracy: late by
    // 0.7–1.0 s on a quiet machine, 1.02 s once on a 2-core machine at load 7, so 3 s still
    // tells AccuracySec=100ms from the default.
    expect(timer.lateness).toBeLessThan(3);
    expect(ai().run("cat", [`/var/lib/clawd-mesh/rolled-back/${timer.token}`])).toMatch(
      /^failed=$/m,
    );
    expect(installed(ai())).toEqual(before);
    lab.useFleet(undefined);
    expect(mismatches(await probeMatrix(lab))).toEqual([]);
  }

  test("the operator's peer key mistyped: the switch loses the operator", async () => {
    const twin = lab.twin();
    const wrong = wireguardPublicKey(randomBytes(32).toString("base64"));
    lab.useTwin({
      ...twin,
      peers: twin.peers.map((p: { name: string }) =>
        p.name === "admin" ? { ...p, publicKey: wrong } : p,
      ),
    });
    // A follow ahead of a rotated hub that the push ended (apply.sh notes it in pending/ahead)
    // starts again with the rollback: here as a unit of its own, since the timer's service
    // ends with every process left in it. Followed: the operator's real key, as "previous", so
    // the follow changes nothing on the node until it is stopped.
    const admin = twin.peers.find((p: { name: string }) => p.name === "admin")?.publicKey;
    const meshIp = lab.fleet().nodes.find((n) => n.name === "ai")!.meshIp;
    const follow = `${meshIp} 120 ${wrong} ${admin}`;
    const peers = () => ai().run("wg", ["show", "wg0", "peers"]).trim().split("\n").sort();
    const before = peers();
    await rolledBackByTheTimer("wrong peer key", /ai: the switch was not confirmed/, () =>
      ai().run("sh", ["-c", `echo "${follow}" >/var/lib/clawd-mesh/pending/ahead`]),
    );
    const units = ai()
      .run("systemctl", ["list-units", "--plain", "--no-legend", "clawd-mesh-follow-*"])
      .trim();
    expect(units).toMatch(/^clawd-mesh-follow-\S+-1\.service\s+loaded active running/);
    expect(
      ai().run("cat", [
        `/proc/${ai()
          .run("cat", [`/var/lib/clawd-mesh/follow/${meshIp}`])
          .trim()}/cmdline`,
      ]),
    ).toContain(`${meshIp}\u0000120\u0000${wrong}\u0000${admin}\u0000ahead`);
    ai().run("systemctl", ["stop", units.split(/\s+/)[0] as string]);
    // Stopped, it leaves the key that answered last (the real one) and takes the other away.
    expect(peers()).toEqual(before);
  }, 300_000);

  test("SSH allowed only from the clients: the new firewall drops the management path", async () => {
    lab.useFleet(sshFromClientsOnly(lab));
    await rolledBackByTheTimer(
      "firewall drops the management path",
      /ai: the switch was not confirmed: no connection over admin@10\.10\.10\.1:22 within 30 s of the switch/,
    );
  }, 300_000);

  test("a node whose sshd refuses the new configuration: nothing is armed, nothing changes", async () => {
    const before = installed(ai());
    const undo = sshdRefusesNewConfig(ai());
    lab.useFleet(withRule(lab, "ai", 8091));
    const started = Date.now();
    try {
      const run = await lab.engine("up");
      expect(run.ok).toBe(false);
      expect(tail(run)).toContain(
        "sshd -t rejected the new /etc/ssh/sshd_config; nothing was changed",
      );
      // Refused before the switch: no timer was armed, nothing is left to roll back.
      expect(pending(ai())).toBe(false);
      expect(ai().run("systemctl", ["list-timers", "--all", "--no-legend"])).not.toMatch(
        /clawd-mesh-rollback-/,
      );
      recovery["sshd refuses the configuration"] =
        `refused ${((Date.now() - started) / 1000).toFixed(1)} s after the up started, before anything was armed (no timer)`;
      expect(installed(ai())).toEqual(before);
    } finally {
      undo();
    }
    // Once the node's sshd accepts it, the same change lands by a plain up.
    expect(counts(await up(lab))).toMatchObject({ commands: 1 });
    expect(ai().run("cat", ["/etc/nftables.conf"])).toContain("8091");
  }, 300_000);

  test("a node that does not answer: the push fails, and the next up lands it", async () => {
    lab.useFleet(withRule(lab, "ai", 8092));
    ai().run("ip", ["link", "set", "eth0", "down"]);
    const started = Date.now();
    let run;
    try {
      run = await lab.engine("up");
    } finally {
      ai().run("ip", ["link", "set", "eth0", "up"]);
    }
    expect(run.ok).toBe(false);
    expect(tail(run)).toMatch(/ai: the push failed: after \d+ failed attempts/);
    expect(pending(ai())).toBe(false);
    recovery["node does not answer"] =
      `the up failed ${((Date.now() - started) / 1000).toFixed(1)} s after it started, before anything was armed (no timer)`;
    const again = await up(lab);
    expect(counts(again)).toMatchObject({ commands: 1 });
    expect(ai().run("cat", ["/etc/nftables.conf"])).toContain("8092");
  }, 300_000);
});

test("a reboot after a confirmed push: wg-quick@wg0 and nftables.service bring the node back on it", async () => {
  const host = ai() as SystemdHost;
  const ruleset = () => host.run("nft", ["-s", "list", "table", "inet", "clawd_mesh"]);
  const before = { ruleset: ruleset(), key: host.run("wg", ["show", "wg0", "public-key"]) };
  const seconds = host.reboot();
  const started = Date.now();
  let answered = false;
  while (!answered && Date.now() - started < 60_000) {
    answered = (await lab.ssh("ai", "true", "", 10_000)).status === 0;
    if (!answered) await pause(500);
  }
  console.log(
    `reboot: systemd's targets again ${seconds.toFixed(1)} s after systemctl reboot, ` +
      `the operator in over the mesh ${((Date.now() - started) / 1000).toFixed(1)} s after that`,
  );
  expect(answered).toBe(true);
  const active = host.try("systemctl", ["is-active", "wg-quick@wg0", "nftables", "ssh"]);
  expect(active.stdout.trim().split("\n")).toEqual(["active", "active", "active"]);
  expect({ ruleset: ruleset(), key: host.run("wg", ["show", "wg0", "public-key"]) }).toEqual(
    before,
  );
  expect(mismatches(await probeMatrix(lab))).toEqual([]);
}, 180_000);
