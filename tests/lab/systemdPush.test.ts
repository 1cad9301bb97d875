// The push on a host that boots systemd (stack ollama-home, its Debian node on a SystemdHost):
// the path production takes. The rollback is armed as a transient systemd timer and must fire
// within a second of its window; the services a reboot relies on are enabled; the admin user
// may run the receiver with sudo and nothing else; after a reboot the node is back on the mesh.
import { randomBytes } from "node:crypto";
import { wireguardPublicKey } from "../../core/crypto/keys";
import type { Lab } from "../../lab/lab";
import type { SystemdHost } from "../../lab/systemdHost";
import { LAB_WINDOW, mismatches, probeMatrix, startLab, stopLab, tail } from "../helpers/lab";

let lab: Lab;
beforeAll(async () => {
  lab = await startLab("ollama-home", { hosts: "systemd", connectAttempts: 6 });
}, 300_000);
afterAll(() => stopLab());

const ai = () => lab.nodeHost("ai")!;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The journal's lines matching `pattern`, each with its time (seconds, microsecond precision). */
function journal(pattern: RegExp): { at: number; line: string }[] {
  const text = ai().run("journalctl", ["--no-pager", "-o", "short-unix", "-q"]);
  return text.split("\n").flatMap((line) => {
    const m = /^(\d+\.\d+) (.*)$/.exec(line);
    return m && pattern.test(m[2] as string) ? [{ at: Number(m[1]), line: m[2] as string }] : [];
  });
}

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

test("the rollback armed with systemd-run fires within one second of its window", async () => {
  const before = ai().run("cat", ["/etc/wireguard/wg0.conf"]);
  const twin = lab.twin();
  const wrong = wireguardPublicKey(randomBytes(32).toString("base64"));
  // The operator's own peer key mistyped: the switch loses the operator, nothing confirms.
  lab.useTwin({
    ...twin,
    peers: twin.peers.map((p: { name: string }) =>
      p.name === "admin" ? { ...p, publicKey: wrong } : p,
    ),
  });
  try {
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
    const run = await running;
    expect(run.ok).toBe(false);
    expect(tail(run)).toMatch(/ai: the switch was not confirmed/);
    // Rolled back by the timer alone, every step of it succeeding.
    const backBy = Date.now() + (LAB_WINDOW + 20) * 1000;
    while (ai().try("test", ["-e", "/var/lib/clawd-mesh/pending"]).status === 0) {
      if (Date.now() > backBy) throw new Error(`no rollback within ${LAB_WINDOW + 20} s`);
      await pause(200);
    }
    const recovery = (Date.now() - started) / 1000;
    const armed = journal(/Started clawd-mesh-rollback-.*\.timer/).at(-1);
    const token = /clawd-mesh-rollback-(\S+)\.timer/.exec(armed?.line ?? "")?.[1] ?? "?";
    // The timer's own moment (its service started), and the rollback's first word.
    const fired = journal(new RegExp(`Started clawd-mesh-rollback-${token}\\.service`)).at(-1);
    const spoke = journal(new RegExp(`push ${token} was not confirmed in \\d+s`)).at(-1);
    expect({ armed, fired, spoke }).toEqual({
      armed: expect.anything(),
      fired: expect.anything(),
      spoke: expect.anything(),
    });
    const lateness = fired!.at - armed!.at - LAB_WINDOW;
    console.log(
      `systemd rollback timer: window ${LAB_WINDOW} s; fired ${lateness.toFixed(3)} s after it, ` +
        `the rollback began ${(spoke!.at - armed!.at - LAB_WINDOW).toFixed(3)} s after it; ` +
        `node back ${recovery.toFixed(1)} s after the up started`,
    );
    expect(lateness).toBeGreaterThanOrEqual(0);
    expect(lateness).toBeLessThan(1);
    expect(ai().run("cat", [`/var/lib/clawd-mesh/rolled-back/${token}`])).toMatch(/^failed=$/m);
    expect(ai().run("cat", ["/etc/wireguard/wg0.conf"])).toBe(before);
  } finally {
    lab.useFleet(undefined);
  }
  expect(mismatches(await probeMatrix(lab))).toEqual([]);
}, 300_000);

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
